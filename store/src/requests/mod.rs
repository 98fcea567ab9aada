//! Requests (诉求): `requests`, their timeline (`request_events`), photos
//! (`request_photos`), categories (`request_categories`) and the one-time
//! rating codes (`rating_tokens`). Reads for the ledger, the figures and the
//! pull in `read`; the writes of one action, inside its transaction, in `write`.

/// The states in which a request still owes an outcome (see
/// `app::requests::RequestStatus::is_open`), as SQL for `concat!`.
macro_rules! open_states {
    () => {
        "('received', 'assigned', 'in_progress')"
    };
}

mod read;
mod write;

pub use read::{CategoryRow, EventRow, FigureRow, LedgerQuery, PulledRequest, RequestRow, TokenRow};
pub use write::{NewEvent, NewRequest, NewToken, RequestState};
