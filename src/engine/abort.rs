//! `abort_on_fail` thresholds judged while the run goes: a writer of the per-second series that
//! adds each completed second (after the warmup) to the run so far, judges the thresholds whose
//! delay has passed, and on the first failure stops the run the way the end of its duration
//! does (no new iterations, grace for those in flight, fixtures deleted, report written).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use super::Control;
use crate::metrics::series::{SecondRecord, SeriesSink};
use crate::metrics::threshold::{AbortedBy, Threshold};

/// Which threshold stopped the run, once one has; shared with whoever builds the summary.
#[derive(Clone, Debug, Default)]
pub struct AbortOutcome(Arc<Mutex<Option<AbortedBy>>>);

impl AbortOutcome {
    pub fn get(&self) -> Option<AbortedBy> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, aborted: AbortedBy) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(aborted);
    }
}

/// The series writer that judges `abort_on_fail` thresholds.
pub struct AbortWatch {
    thresholds: Vec<Threshold>,
    warmup: Duration,
    control: Arc<Control>,
    so_far: SecondRecord,
    outcome: AbortOutcome,
}

impl AbortWatch {
    /// A watch over the thresholds marked `abort_on_fail`; `None` when there are none.
    pub fn new(
        thresholds: &[Threshold],
        warmup: Duration,
        control: Arc<Control>,
    ) -> Option<(AbortWatch, AbortOutcome)> {
        let thresholds: Vec<Threshold> = thresholds
            .iter()
            .filter(|t| t.abort.is_some())
            .cloned()
            .collect();
        if thresholds.is_empty() {
            return None;
        }
        let outcome = AbortOutcome::default();
        let watch = AbortWatch {
            thresholds,
            warmup,
            control,
            so_far: SecondRecord::default(),
            outcome: outcome.clone(),
        };
        Some((watch, outcome))
    }

    /// Adds second `second` and judges; returns the threshold that failed, if one did now.
    fn judge(&mut self, second: u32, record: &SecondRecord) -> Option<AbortedBy> {
        if self.outcome.get().is_some() {
            return None;
        }
        // A second that starts inside the warmup is left out, as the summary leaves it out.
        if Duration::from_secs(u64::from(second)) >= self.warmup {
            self.so_far.merge(record);
        }
        let elapsed = Duration::from_secs(u64::from(second) + 1);
        self.thresholds.iter().find_map(|threshold| {
            let rule = threshold.abort?;
            if elapsed < rule.delay {
                return None;
            }
            let actual = threshold.actual_so_far(&self.so_far)?;
            (!threshold.holds(actual)).then(|| AbortedBy {
                expr: threshold.expr.clone(),
                actual: (actual * 1000.0).round() / 1000.0,
                at_s: elapsed.as_secs_f64(),
            })
        })
    }
}

impl SeriesSink for AbortWatch {
    fn begin(&mut self, _wall: SystemTime) -> std::io::Result<()> {
        Ok(())
    }

    fn second(&mut self, second: u32, record: &SecondRecord) -> std::io::Result<()> {
        if let Some(aborted) = self.judge(second, record) {
            eprintln!(
                "\nagentload: threshold `{}` failed ({} on the run so far) after {}s: stopping the run (abort_on_fail)",
                aborted.expr,
                crate::model::units::trim_number(aborted.actual),
                aborted.at_s
            );
            self.outcome.set(aborted);
            self.control.mark_ended();
            self.control.stop.cancel();
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::series::OpSecond;
    use crate::model::Op;

    fn second(requests: u64, errors: u64) -> SecondRecord {
        let mut record = SecondRecord::default();
        record.ops.insert(
            Op::Get,
            OpSecond {
                requests,
                errors,
                ..OpSecond::default()
            },
        );
        record
    }

    #[test]
    fn a_failing_threshold_stops_the_run_once_its_delay_has_passed() {
        let threshold = Threshold::parse("errors.rate", "< 10%")
            .unwrap()
            .abort_on_fail(Duration::from_secs(3))
            .unwrap();
        let control = Arc::new(Control::new(None));
        let (mut watch, outcome) =
            AbortWatch::new(&[threshold], Duration::from_secs(1), control.clone()).unwrap();
        // Second 0 is warmup: its errors never count.
        watch.second(0, &second(10, 10)).unwrap();
        watch.second(1, &second(10, 0)).unwrap();
        // 1 error in 20 after 3 s: 5% holds.
        watch.second(2, &second(10, 1)).unwrap();
        assert!(outcome.get().is_none() && !control.stop.is_cancelled());
        // 4 in 30 after 4 s: 13.3% fails.
        watch.second(3, &second(10, 3)).unwrap();
        let aborted = outcome.get().expect("aborted");
        assert_eq!(aborted.expr, "errors.rate < 10%");
        assert_eq!((aborted.actual, aborted.at_s), (0.133, 4.0));
        assert!(control.stop.is_cancelled() && !control.abort.is_cancelled());
        assert!(
            !control.was_interrupted(),
            "a graceful stop, not an interrupt"
        );
    }

    #[test]
    fn nothing_is_judged_before_the_delay_or_without_data() {
        let threshold = Threshold::parse("get.latency.p95", "< 1ms")
            .unwrap()
            .abort_on_fail(Duration::from_secs(5))
            .unwrap();
        let control = Arc::new(Control::new(None));
        let (mut watch, outcome) =
            AbortWatch::new(&[threshold], Duration::ZERO, control.clone()).unwrap();
        // Requests but no latency histogram (all failed): nothing to judge.
        for s in 0..10 {
            watch.second(s, &second(5, 5)).unwrap();
        }
        assert!(outcome.get().is_none());
        assert!(AbortWatch::new(&[], Duration::ZERO, control).is_none());
    }

    #[test]
    fn quantities_known_only_at_the_end_cannot_abort() {
        for (key, expect) in [
            ("errors.http_429.count", "error classes"),
            ("load.achieved_rate", "iterations"),
            ("fast:errors.rate", "agent"),
        ] {
            let err = Threshold::parse(key, "< 1")
                .unwrap()
                .abort_on_fail(Duration::ZERO)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(expect) && err.contains("cannot abort"),
                "{err}"
            );
        }
    }
}
