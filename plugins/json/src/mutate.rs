//! Deterministic edits of JSON text for differential tests: the same inputs on every run, so
//! a failure reproduces. Shared by this crate's tests and the enricher's (feature `mutate`).

/// A xorshift64 sequence and the one-byte edits it drives.
pub struct Mutator {
    state: u64,
    alphabet: &'static [u8],
}

impl Mutator {
    /// A sequence from `seed` (not 0) whose inserted and replacing bytes come from `alphabet`.
    pub fn new(seed: u64, alphabet: &'static [u8]) -> Self {
        Self {
            state: seed,
            alphabet,
        }
    }

    /// The next number of the sequence.
    pub fn next_u64(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }

    /// Applies `edits` edits at random places: replace, delete or insert one byte.
    pub fn edit(&mut self, bytes: &mut Vec<u8>, edits: u64) {
        for _ in 0..edits {
            let at = (self.next_u64() % (bytes.len() as u64 + 1)) as usize;
            let byte = self.alphabet[(self.next_u64() % self.alphabet.len() as u64) as usize];
            match self.next_u64() % 3 {
                0 if at < bytes.len() => bytes[at] = byte,
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, byte),
            }
        }
    }
}
