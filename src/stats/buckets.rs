//! The one view of a histogram the statistics read: its recorded buckets, lowest first, each a
//! value with a count. Rank tests, order statistics and bootstrap draws all work on it, so they
//! are exact in the counts and cost O(buckets) whatever the number of samples.

use std::iter::Peekable;

use hdrhistogram::Histogram;

/// A histogram as its recorded buckets, lowest first. A bucket's value is its highest
/// equivalent value (what [`Histogram::value_at_quantile`] reports), so two histograms of the
/// same precision share bucket values exactly, and values in one bucket are ties.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Buckets {
    values: Vec<u64>,
    /// Samples at or below each bucket: `cumulative[i]` counts buckets `0..=i`.
    cumulative: Vec<u64>,
}

/// One value of two samples merged, with how many of each sample it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SharedBucket {
    pub value: u64,
    /// Samples of the first at `value`.
    pub in_first: u64,
    /// Samples of the second at `value`.
    pub in_second: u64,
}

impl Buckets {
    /// The recorded buckets of `histogram`.
    pub fn from_histogram(histogram: &Histogram<u64>) -> Buckets {
        Buckets::from_counts_iter(histogram.iter_recorded().map(|bucket| {
            (
                histogram.highest_equivalent(bucket.value_iterated_to()),
                bucket.count_at_value(),
            )
        }))
    }

    /// Buckets from (value, count) pairs, values ascending.
    pub fn from_counts(pairs: &[(u64, u64)]) -> Buckets {
        Buckets::from_counts_iter(pairs.iter().copied())
    }

    fn from_counts_iter(pairs: impl Iterator<Item = (u64, u64)>) -> Buckets {
        let mut buckets = Buckets::default();
        let mut total = 0;
        for (value, count) in pairs {
            total += count;
            buckets.values.push(value);
            buckets.cumulative.push(total);
        }
        buckets
    }

    /// The number of samples.
    pub fn len(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `rank`-th smallest sample (1-based; past the last, the last); 0 when there are none.
    pub fn value_at_rank(&self, rank: u64) -> u64 {
        let index = self.cumulative.partition_point(|&c| c < rank);
        self.values
            .get(index.min(self.values.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    }

    /// The value below which a `fraction` (0..=1) of the samples lie: the sample of rank
    /// ceil(fraction n), at least the first; 0 when there are none.
    pub fn value_at_fraction(&self, fraction: f64) -> u64 {
        let n = self.len();
        let rank = ((fraction * n as f64).ceil() as u64).clamp(1, n.max(1));
        self.value_at_rank(rank)
    }

    /// The count in each bucket, lowest value first.
    pub fn counts(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.values
            .iter()
            .zip(&self.cumulative)
            .scan(0, |before, (&value, &upto)| {
                let count = upto - *before;
                *before = upto;
                Some((value, count))
            })
    }

    /// The values of `first` and `second` together, lowest first, each with its count in
    /// either sample.
    pub fn merge(first: &Buckets, second: &Buckets) -> Vec<SharedBucket> {
        let mut first = first.counts().peekable();
        let mut second = second.counts().peekable();
        let mut merged = Vec::new();
        loop {
            let value = match (first.peek(), second.peek()) {
                (None, None) => break,
                (Some(&(a, _)), Some(&(b, _))) => a.min(b),
                (Some(&(a, _)), None) => a,
                (None, Some(&(b, _))) => b,
            };
            merged.push(SharedBucket {
                value,
                in_first: take_count(&mut first, value),
                in_second: take_count(&mut second, value),
            });
        }
        merged
    }
}

/// The count of `value` if it is next in `counts` (and then past it), else 0.
fn take_count(counts: &mut Peekable<impl Iterator<Item = (u64, u64)>>, value: u64) -> u64 {
    counts.next_if(|&(v, _)| v == value).map_or(0, |(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::samples::histogram;

    #[test]
    fn buckets_read_ranks_and_counts_off_the_histogram() {
        let h = histogram(&[1, 2, 2, 3, 3, 3]);
        let buckets = Buckets::from_histogram(&h);
        assert_eq!(buckets.len(), 6);
        assert_eq!(
            buckets.counts().collect::<Vec<_>>(),
            [(1, 1), (2, 2), (3, 3)]
        );
        assert_eq!(
            (1..=7)
                .map(|r| buckets.value_at_rank(r))
                .collect::<Vec<_>>(),
            [1, 2, 2, 3, 3, 3, 3]
        );
        assert_eq!(buckets.value_at_rank(0), 1);
        assert_eq!(
            [0.0, 0.17, 0.5, 0.51, 1.0].map(|f| buckets.value_at_fraction(f)),
            [1, 2, 2, 3, 3]
        );
        assert_eq!(Buckets::default().value_at_fraction(0.5), 0);
        assert_eq!(Buckets::default().value_at_rank(1), 0);
        assert!(Buckets::default().is_empty());
    }

    #[test]
    fn bucket_values_are_what_the_histogram_reports() {
        // At 3 significant figures 123_456 shares a bucket with its neighbours.
        let h = histogram(&[123_456, 7, 7]);
        let buckets = Buckets::from_histogram(&h);
        assert_eq!(buckets.value_at_rank(3), h.value_at_quantile(1.0));
        assert_eq!(buckets.value_at_rank(1), h.value_at_quantile(0.0));
        assert_eq!(buckets.value_at_rank(3), h.highest_equivalent(123_456));
    }

    #[test]
    fn merging_lines_up_equal_values() {
        let a = Buckets::from_counts(&[(1, 2), (5, 1)]);
        let b = Buckets::from_counts(&[(3, 4), (5, 2), (9, 1)]);
        let merged: Vec<(u64, u64, u64)> = Buckets::merge(&a, &b)
            .into_iter()
            .map(|s| (s.value, s.in_first, s.in_second))
            .collect();
        assert_eq!(merged, [(1, 2, 0), (3, 0, 4), (5, 1, 2), (9, 0, 1)]);
        assert!(Buckets::merge(&Buckets::default(), &Buckets::default()).is_empty());
    }
}
