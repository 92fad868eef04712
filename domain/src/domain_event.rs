//! What the event store reads of an event: its stable name and the
//! schema version of its stream's events.

/// `DomainEvent` for an event enum whose `name()` gives the stable names
/// (the log's `event_type`), all at schema version `$version`.
macro_rules! domain_event {
    ($event:ident, $version:ident) => {
        impl cqrs_es::DomainEvent for $event {
            fn event_type(&self) -> String {
                self.name().to_owned()
            }

            fn event_version(&self) -> String {
                $version.to_owned()
            }
        }
    };
}

pub(crate) use domain_event;
