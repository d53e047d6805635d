//! The plugin chain: every event passes through each plugin in order.

use crate::bindings::{Event as WitEvent, Header as WitHeader, Outcome, Output};
use crate::instance::{CallFault, PluginInstance};
use crate::plugin::Plugin;
use bytes::Bytes;
use std::sync::Arc;
use weir_core::{ErrorClass, Event, EventResult, Failure, Header, Stage, Transform};

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
pub struct PluginChain {
    links: Vec<Link>,
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
        Self { links }
    }

    /// The plugins, in order.
    pub fn plugins(&self) -> impl Iterator<Item = &Arc<Plugin>> {
        self.links.iter().map(|l| &l.plugin)
    }
}

impl Transform for PluginChain {
    fn transform(&mut self, batch: &[Event]) -> Vec<EventResult> {
        let mut failures: Vec<Option<Failure>> = vec![None; batch.len()];
        // Events in flight, each with the index of the source event it derives from.
        let mut current: Vec<(usize, Event)> = batch.iter().cloned().enumerate().collect();
        for link in &mut self.links {
            if current.is_empty() {
                break;
            }
            let inputs: Vec<WitEvent> = current.iter().map(|(_, e)| to_wit(e)).collect();
            let outcomes = link.run(&inputs);
            let mut next = Vec::with_capacity(current.len());
            for ((owner, event), outcome) in current.into_iter().zip(outcomes) {
                match outcome {
                    Ok(outputs) => next.extend(
                        outputs
                            .into_iter()
                            .map(|output| (owner, from_output(output, &event))),
                    ),
                    Err(failure) => {
                        failures[owner].get_or_insert(failure);
                    }
                }
            }
            // Outputs of an already failed source event are not worth running further.
            next.retain(|(owner, _)| failures[*owner].is_none());
            current = next;
        }

        let mut results: Vec<EventResult> = failures
            .into_iter()
            .map(|f| match f {
                Some(failure) => Err(failure),
                None => Ok(Vec::new()),
            })
            .collect();
        for (owner, event) in current {
            if let Ok(outputs) = &mut results[owner] {
                outputs.push(event);
            }
        }
        results
    }
}

impl Link {
    /// Runs the plugin over `inputs`; one result per input. Faults are isolated: after a
    /// failed batch call the instance is replaced and the events are retried one by one, so
    /// only the events that cause the fault fail.
    fn run(&mut self, inputs: &[WitEvent]) -> Vec<Result<Vec<Output>, Failure>> {
        match self.call(inputs) {
            Ok(outcomes) => outcomes.into_iter().map(|o| self.outcome(o)).collect(),
            Err(fault) if inputs.len() == 1 => vec![Err(self.fault(fault))],
            Err(fault) => {
                tracing::warn!(
                    plugin = %self.stage,
                    class = %fault.class,
                    events = inputs.len(),
                    "{}; retrying the batch one event at a time to find the cause",
                    fault.message
                );
                inputs
                    .iter()
                    .map(|input| match self.call(std::slice::from_ref(input)) {
                        Ok(mut outcomes) => match outcomes.pop() {
                            Some(o) => self.outcome(o),
                            None => Err(self.wrong_count(1, 0)),
                        },
                        Err(fault) => Err(self.fault(fault)),
                    })
                    .collect()
            }
        }
    }

    fn call(&mut self, inputs: &[WitEvent]) -> Result<Vec<Outcome>, CallFault> {
        let instance = match &mut self.instance {
            Some(instance) => instance,
            slot => slot.insert(self.plugin.instantiate().map_err(|e| CallFault {
                class: ErrorClass::PluginTrap,
                message: format!("cannot create a fresh instance: {e}"),
            })?),
        };
        match instance.process(inputs) {
            Ok(outcomes) if outcomes.len() == inputs.len() => Ok(outcomes),
            Ok(outcomes) => {
                let failure = self.wrong_count(inputs.len(), outcomes.len());
                self.instance = None;
                Err(CallFault {
                    class: failure.class,
                    message: failure.message,
                })
            }
            Err(fault) => {
                // A trapped instance is poisoned; the next call gets a fresh one.
                self.instance = None;
                Err(fault)
            }
        }
    }

    fn outcome(&self, outcome: Outcome) -> Result<Vec<Output>, Failure> {
        match outcome {
            Outcome::Emit(outputs) => Ok(outputs),
            Outcome::Fail(error) => Err(Failure {
                stage: self.stage.clone(),
                class: ErrorClass::from(&error),
                field: error.field,
                message: error.message,
                attempts: 1,
            }),
        }
    }

    fn fault(&self, fault: CallFault) -> Failure {
        tracing::warn!(plugin = %self.stage, class = %fault.class, "{}", fault.message);
        Failure::new(self.stage.clone(), fault.class, fault.message)
    }

    fn wrong_count(&self, expected: usize, got: usize) -> Failure {
        Failure::new(
            self.stage.clone(),
            ErrorClass::PluginTrap,
            format!("plugin broke the contract: {got} outcomes for {expected} events"),
        )
    }
}

fn to_wit(event: &Event) -> WitEvent {
    WitEvent {
        key: event.key.as_ref().map(|k| k.to_vec()),
        value: event.value.to_vec(),
        headers: event
            .headers
            .iter()
            .map(|h| WitHeader {
                name: h.name.clone(),
                value: h.value.to_vec(),
            })
            .collect(),
        topic: event.position.topic.to_string(),
        partition: event.position.partition,
        offset: event.position.offset,
        timestamp_ms: event.timestamp_ms,
    }
}

fn from_output(output: Output, input: &Event) -> Event {
    Event {
        key: output.key.map(Bytes::from),
        value: Bytes::from(output.value),
        headers: output
            .headers
            .into_iter()
            .map(|h| Header::new(h.name, h.value))
            .collect(),
        timestamp_ms: input.timestamp_ms,
        position: input.position.clone(),
    }
}
