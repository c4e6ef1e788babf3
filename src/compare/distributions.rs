//! A run's whole distribution per `<op>.<metric>` tag: its seconds after the warmup added up,
//! by one rule whether the seconds come from a stored `histograms.hlog` or from a live run as
//! each completes (so `run --baseline` judges what `compare` would read back).

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::metrics::series::{Accumulate, Kept, SecondRecord};
use crate::model::{Metric, Op};
use crate::store::hlog::tag;

/// Histograms added up per tag, seconds that start inside the warmup left out.
#[derive(Clone, Debug, Default)]
pub struct Distributions {
    warmup: Duration,
    histograms: BTreeMap<String, Histogram<u64>>,
}

impl Distributions {
    /// Seconds that start before `warmup` are left out.
    pub fn new(warmup: Duration) -> Distributions {
        Distributions {
            warmup,
            histograms: BTreeMap::new(),
        }
    }

    /// Adds one op's metric during `second` (unless the second is warmup).
    pub fn add(&mut self, second: u32, op: Op, metric: Metric, histogram: &Histogram<u64>) {
        if Duration::from_secs(u64::from(second)) < self.warmup {
            return;
        }
        let tag = tag(op, metric);
        match self.histograms.get_mut(&tag) {
            Some(total) => total
                .add(histogram)
                .expect("auto-resizing histograms accept any other histogram"),
            None => {
                let mut total = histogram.clone();
                total.auto(true);
                self.histograms.insert(tag, total);
            }
        }
    }

    /// Adds every histogram of one second.
    pub fn add_second(&mut self, second: u32, record: &SecondRecord) {
        for (op, op_record) in &record.ops {
            for (metric, histogram) in op_record.histograms.iter() {
                self.add(second, *op, metric, histogram);
            }
        }
    }

    /// The distributions, by tag (`run_stream.ttfs`).
    pub fn into_histograms(self) -> BTreeMap<String, Histogram<u64>> {
        self.histograms
    }
}

/// A series writer keeping a live run's [`Distributions`].
pub type DistributionsSink = Kept<Distributions>;

impl Accumulate for Distributions {
    fn add_second(&mut self, second: u32, record: &SecondRecord) {
        Distributions::add_second(self, second, record);
    }
}
