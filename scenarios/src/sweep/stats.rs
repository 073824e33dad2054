//! The statistics of a sweep row: a sample's mean with its 95 % interval, median
//! and 99th percentile, and a rate's Wilson score interval (which gives "0 of N"
//! an upper bound instead of calling it impossible).

/// z for a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// A rate with its 95 % Wilson score interval.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Rate {
    /// Runs that showed it.
    pub seen: u64,
    /// Runs.
    pub runs: u64,
    /// `seen / runs`.
    pub rate: f64,
    /// Lower bound of the interval.
    pub low: f64,
    /// Upper bound of the interval.
    pub high: f64,
}

/// `seen` of `runs` with its Wilson interval (all 0 for no runs).
pub fn wilson(seen: u64, runs: u64) -> Rate {
    if runs == 0 {
        return Rate {
            seen,
            runs,
            rate: 0.0,
            low: 0.0,
            high: 0.0,
        };
    }
    let n = runs as f64;
    let p = seen as f64 / n;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Rate {
        seen,
        runs,
        rate: p,
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    }
}

/// Mean, its 95 % interval (normal approximation), median and 99th percentile
/// of a sample.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Summary {
    /// Values in the sample.
    pub count: usize,
    /// Their mean.
    pub mean: f64,
    /// Lower bound of the mean's interval.
    pub low: f64,
    /// Upper bound of the mean's interval.
    pub high: f64,
    /// The median (nearest rank).
    pub median: f64,
    /// The 99th percentile (nearest rank).
    pub p99: f64,
}

/// The summary of `values` (`None` when empty). Sums run in the order given,
/// so the same values in the same order give bit-identical results.
pub fn summarize(values: &[f64]) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = if values.len() > 1 {
        values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    let half = Z95 * (variance / n).sqrt();
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = |q: f64| sorted[((q * n).ceil() as usize).clamp(1, sorted.len()) - 1];
    Some(Summary {
        count: values.len(),
        mean,
        low: mean - half,
        high: mean + half,
        median: rank(0.5),
        p99: rank(0.99),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-4
    }

    #[test]
    fn wilson_matches_published_values() {
        // Newcombe (1998), Statistics in Medicine 17, table I: 0/10 gives
        // 0 to 0.2775; 1/10 gives 0.0179 to 0.4042; 81/263 gives 0.2553 to 0.3662.
        let r = wilson(0, 10);
        assert!(close(r.low, 0.0) && close(r.high, 0.2775), "{r:?}");
        let r = wilson(1, 10);
        assert!(close(r.low, 0.0179) && close(r.high, 0.4042), "{r:?}");
        let r = wilson(81, 263);
        assert!(close(r.low, 0.2553) && close(r.high, 0.3662), "{r:?}");
        let r = wilson(10, 10);
        assert!(close(r.low, 0.7225) && close(r.high, 1.0), "{r:?}");
    }

    #[test]
    fn summaries_give_mean_interval_and_ranks() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = summarize(&values).unwrap();
        assert_eq!((s.mean, s.median, s.p99), (50.5, 50.0, 99.0));
        // sd of 1..=100 is 29.011; 1.96 * 29.011 / 10 = 5.686.
        assert!(close(s.high - s.mean, 5.686), "{s:?}");
        let one = summarize(&[7.0]).unwrap();
        assert_eq!((one.low, one.high, one.p99), (7.0, 7.0, 7.0));
        assert_eq!(summarize(&[]), None);
    }
}
