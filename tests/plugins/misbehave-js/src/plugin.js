// A JavaScript plugin that misbehaves on demand, for the runtime's isolation and sandbox
// tests. Each event is `{"do": ACTION}`:
// - "ok": emitted unchanged;
// - "throw": throws a plain Error (the SDK fails this event alone as `rejected`);
// - "spin": loops forever (the host's time budget must stop it);
// - "grow": allocates without bound (the host's memory cap must stop it);
// - "fetch": calls fetch(), which the component cannot do (the engine traps);
// - "probe": emits what the sandbox lets it see: `Date.now()` (frozen at build time when the
//   component has no clock), randomness, and whether fetch can reach anything.

export default {
  process(event, out) {
    const action = event.json().do;
    switch (action) {
      case 'ok':
        return out.forward();
      case 'throw':
        throw new Error('thrown on purpose');
      case 'spin':
        for (;;) {}
      case 'grow': {
        const hoard = [];
        for (;;) hoard.push(new Uint8Array(16 << 20).fill(1));
      }
      case 'fetch':
        // Built without the `http` feature, the engine traps: the host fails this event.
        fetch('http://127.0.0.1:9/');
        return out.forward();
      case 'probe': {
        return out.json({
          now: Date.now(),
          random: Math.random(),
          has_process: typeof process !== 'undefined',
        });
      }
      default:
        return out.forward();
    }
  },
};
