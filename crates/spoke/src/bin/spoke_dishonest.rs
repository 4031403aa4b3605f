//! `spoke-dishonest`: the `spoke` binary built with test-only tampering (feature
//! `dishonest`, see `spoke::dishonest`). Never install it.

include!("../main.rs");
