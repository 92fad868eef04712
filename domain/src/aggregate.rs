//! What the aggregates of every stream share: how a command is handled.

/// `cqrs_es::Aggregate` for a stream of the domain, from three functions of
/// its own:
///
/// - `check_clock(&command, clock)`: nothing is dated after the services'
///   clock (time is the server's, or the recording time when the log is
///   decided again);
/// - `decision(&self, command, services)`: every rule checked and every
///   service asked, the event the command records (or, for the company,
///   the events, in order: an admission with its identity records two);
/// - `evolve(&mut self, event)`: the event folded into the state.
///
/// A command is decided in full before anything is written: the sink
/// applies what it is given, and a refused command must leave the state
/// untouched (the event store relies on it).
macro_rules! aggregate {
    ($aggregate:ident: $type:literal, $command:ty => $event:ty, $error:ty, $services:ty) => {
        impl cqrs_es::Aggregate for $aggregate {
            const TYPE: &'static str = $type;
            type Command = $command;
            type Event = $event;
            type Error = $error;
            type Services = $services;

            async fn handle(
                &mut self,
                command: $command,
                services: &$services,
                sink: &cqrs_es::event_sink::EventSink<Self>,
            ) -> Result<(), $error> {
                Self::check_clock(&command, services.clock.as_ref())?;
                let decided = self.decision(command, services).await?;
                for event in $crate::aggregate::Decided::<$event>::events(decided) {
                    sink.write(event, self).await;
                }
                Ok(())
            }

            fn apply(&mut self, event: $event) {
                self.evolve(event);
            }
        }

        impl $crate::aggregate::Decided<$event> for $event {
            fn events(self) -> Vec<$event> {
                vec![self]
            }
        }
    };
}

/// What a decision records: one event, or several in order (each written,
/// and folded, before the next).
pub(crate) trait Decided<E> {
    fn events(self) -> Vec<E>;
}

impl<E> Decided<E> for Vec<E> {
    fn events(self) -> Vec<E> {
        self
    }
}

pub(crate) use aggregate;
