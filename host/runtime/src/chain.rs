//! The plugin chain: every event passes through each plugin in order.

use crate::bindings::{Batch, BatchResult};
use crate::instance::{CallFault, PluginInstance};
use crate::packed::{self, InFlight};
use crate::plugin::Plugin;
use std::collections::BTreeMap;
use std::sync::Arc;
use weir_core::{ErrorClass, Event, EventResult, Failure, Stage, Transform};

/// One plugin of the chain with its live instance.
struct Link {
    plugin: Arc<Plugin>,
    stage: Stage,
    /// `None` after a fault, until the next call creates a fresh instance.
    instance: Option<PluginInstance>,
}

/// A chain of plugins, run in order; implements [`Transform`].
///
/// Guarantees: one result per input event, in order. A source event fails as a whole if any
/// plugin fails any event derived from it; its failure names the first plugin that failed.
/// Between plugins the events stay packed as the contract carries them: one plugin's result
/// is the next one's batch, without unpacking or copying.
pub struct PluginChain {
    links: Vec<Link>,
    /// The buffers of the last packed input, reused so that packing does not allocate.
    spare: Batch,
}

impl PluginChain {
    /// Builds a chain; each plugin already has one instance from loading.
    pub fn new(plugins: Vec<Arc<Plugin>>) -> Self {
        let links = plugins
            .into_iter()
            .map(|plugin| Link {
                stage: Stage::Plugin {
                    name: plugin.info().name.clone(),
                    version: plugin.info().version.clone(),
                },
                plugin,
                instance: None,
            })
            .collect();
        Self {
            links,
            spare: packed::empty_batch(),
        }
    }

    /// The plugins, in order.
    pub fn plugins(&self) -> impl Iterator<Item = &Arc<Plugin>> {
        self.links.iter().map(|l| &l.plugin)
    }

    /// Linear memory of each plugin's live instance, in chain order (`None` before the
    /// first batch or after a fault): what running the chain costs in memory per worker.
    pub fn instance_memory(&self) -> impl Iterator<Item = (&str, Option<usize>)> {
        self.links.iter().map(|l| {
            (
                l.plugin.info().name.as_str(),
                l.instance.as_ref().map(PluginInstance::memory_bytes),
            )
        })
    }
}

impl Transform for PluginChain {
    fn transform(&mut self, batch: &[Event]) -> Vec<EventResult> {
        if self.links.is_empty() {
            return packed::passthrough(batch);
        }
        // The first failure of each failed source event. Failures are rare: a map keeps the
        // common case from initialising and walking one large slot per event.
        let mut failures: BTreeMap<usize, Failure> = BTreeMap::new();
        let mut flight = InFlight::pack(
            batch,
            std::mem::replace(&mut self.spare, packed::empty_batch()),
        );
        for link in &mut self.links {
            if flight.len() == 0 {
                break;
            }
            // What the previous plugin kept of its input is copied in for this one.
            if let Some(spent) = flight.resolve() {
                recycle(&mut self.spare, spent);
            }
            let (result, faults) = link.run(&flight);
            for (index, failure) in faults {
                if let Some(&owner) = flight.owners.get(index) {
                    failures.entry(owner).or_insert(failure);
                }
            }
            let (mut next, spent) = flight.advance(result, |owner, failure| {
                failures
                    .entry(owner)
                    .or_insert_with(|| link.failure(&failure.error));
            });
            if let Some(spent) = spent {
                recycle(&mut self.spare, spent);
            }
            // Outputs of an already failed source event are not worth running further.
            if !failures.is_empty() {
                next.retain_owners(|owner| !failures.contains_key(&owner));
            }
            flight = next;
        }
        let (results, spent) = flight.unpack(batch, failures);
        for spent in spent.into_iter().flatten() {
            recycle(&mut self.spare, spent);
        }
        results
    }
}

/// Keeps the buffers of a batch that is no longer needed, for packing the next input: of
/// each of its buffers and the one kept so far, the larger.
fn recycle(spare: &mut Batch, spent: Batch) {
    fn larger<T>(kept: &mut Vec<T>, other: Vec<T>) {
        if other.capacity() > kept.capacity() {
            *kept = other;
        }
    }
    let Batch {
        data,
        topics,
        headers,
        events,
    } = spent;
    larger(&mut spare.data, data);
    larger(&mut spare.topics, topics);
    larger(&mut spare.headers.names, headers.names);
    larger(&mut spare.headers.values, headers.values);
    let kept = &mut spare.events;
    larger(&mut kept.keys, events.keys);
    larger(&mut kept.values, events.values);
    larger(&mut kept.headers, events.headers);
    larger(&mut kept.topics, events.topics);
    larger(&mut kept.partitions, events.partitions);
    larger(&mut kept.offsets, events.offsets);
    larger(&mut kept.timestamps_ms, events.timestamps_ms);
}

impl Link {
    /// Runs the plugin over the events in flight and returns its (validated) result, plus
    /// the events that faulted, by index. Faults are isolated: after a failed batch call the
    /// instance is replaced and the events are retried one by one, so only the events that
    /// cause the fault fail.
    fn run(&mut self, flight: &InFlight) -> (BatchResult, Vec<(usize, Failure)>) {
        let count = flight.len();
        let fault = match self.call(&flight.batch, count) {
            Ok(result) => return (result, Vec::new()),
            Err(fault) if count == 1 => {
                return (packed::empty_result(), vec![(0, self.fault(fault))]);
            }
            Err(fault) => fault,
        };
        tracing::warn!(
            plugin = %self.stage,
            class = %fault.class,
            events = count,
            "{}; retrying the batch one event at a time to find the cause",
            fault.message
        );
        let mut combined = packed::empty_result();
        let mut faults = Vec::new();
        for index in 0..count {
            match self.call(&flight.single(index), 1) {
                Ok(part) => packed::append(
                    &mut combined,
                    part,
                    u32::try_from(index).unwrap_or(u32::MAX),
                ),
                Err(fault) => faults.push((index, self.fault(fault))),
            }
        }
        (combined, faults)
    }

    /// One call on a batch of `count` events; the result is validated before it is returned.
    fn call(&mut self, batch: &Batch, count: usize) -> Result<BatchResult, CallFault> {
        let instance = match &mut self.instance {
            Some(instance) => instance,
            slot => slot.insert(self.plugin.instantiate().map_err(|e| CallFault {
                class: ErrorClass::PluginTrap,
                message: format!("cannot create a fresh instance: {e}"),
            })?),
        };
        let outcome = instance.process(batch).and_then(|result| {
            match packed::validate(&result, count) {
                Ok(()) => Ok(result),
                Err(problem) => Err(CallFault {
                    class: ErrorClass::PluginContract,
                    message: format!(
                        "plugin broke the weir:transform contract: {problem}; this is a bug in the plugin or its SDK"
                    ),
                }),
            }
        });
        if outcome.is_err() {
            // A trapped instance is poisoned, and one that returned garbage is not trusted
            // either: the next call gets a fresh one.
            self.instance = None;
        }
        outcome
    }

    fn failure(&self, error: &crate::bindings::EventError) -> Failure {
        Failure {
            stage: self.stage.clone(),
            class: ErrorClass::from(error),
            field: error.field.clone(),
            message: error.message.clone(),
            attempts: 1,
        }
    }

    fn fault(&self, fault: CallFault) -> Failure {
        tracing::warn!(plugin = %self.stage, class = %fault.class, "{}", fault.message);
        Failure::new(self.stage.clone(), fault.class, fault.message)
    }
}
