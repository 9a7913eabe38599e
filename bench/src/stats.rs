//! Latency samples and throughput.

use std::time::Duration;

/// Results of one load level.
pub struct Outcome {
    pub latencies_ms: Vec<f64>,
    pub elapsed: Duration,
    pub errors: usize,
}

impl Outcome {
    pub fn new(mut latencies_ms: Vec<f64>, elapsed: Duration, errors: usize) -> Self {
        latencies_ms.sort_by(|a, b| a.total_cmp(b));
        Self {
            latencies_ms,
            elapsed,
            errors,
        }
    }
    pub fn per_second(&self) -> f64 {
        self.latencies_ms.len() as f64 / self.elapsed.as_secs_f64()
    }
    pub fn p(&self, pct: f64) -> f64 {
        if self.latencies_ms.is_empty() {
            return 0.0;
        }
        let idx = ((pct / 100.0) * (self.latencies_ms.len() - 1) as f64).round() as usize;
        self.latencies_ms[idx.min(self.latencies_ms.len() - 1)]
    }
    pub fn line(&self, label: &str) -> String {
        format!(
            "{label}: {} ops in {:.2}s = {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, errors {}",
            self.latencies_ms.len(),
            self.elapsed.as_secs_f64(),
            self.per_second(),
            self.p(50.0),
            self.p(99.0),
            self.errors
        )
    }
}
