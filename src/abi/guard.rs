//! The panic boundary. Every exported function and every vtable entry is a
//! one-line call into [`guard`], which returns the entry's failure value if
//! anything below panics: an unwinding panic must never reach the host.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::addin::panic_message;

/// Runs `f`; on a panic logs it and returns `failure`.
pub fn guard<R>(failure: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            log::error!(
                "panic caught at the host boundary: {}",
                panic_message(&*payload)
            );
            failure
        }
    }
}

/// Sends panic messages to the `log` facade instead of the host's stderr.
pub fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            log::error!("panic: {info}");
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_returns_the_failure_value_on_panic() {
        assert_eq!(guard(-1, || 5), 5);
        assert_eq!(guard(-1, || panic!("boom")), -1);
        assert!(!guard(false, || -> bool {
            panic!("{}", String::from("owned"))
        }));
    }
}
