//! The scheduler: renamed uops not yet issued. A uop becomes a candidate for issue
//! once the completion cycle of every producer of its sources is known; until then it
//! waits on one producer whose cycle is not known ([`Rob::wait_for`]) and is not looked
//! at, so a scheduler full of waiting uops costs nothing per cycle.

use super::rob::Rob;

/// Renamed uops not yet issued.
#[derive(Debug)]
pub struct Scheduler {
    /// Every scheduled uop, oldest first.
    all: Vec<u64>,
    /// The candidates, oldest first: (uop, cycle all its sources are available).
    ready: Vec<(u64, u64)>,
}

impl Scheduler {
    /// An empty scheduler with room for `capacity` uops.
    pub fn with_capacity(capacity: usize) -> Scheduler {
        Scheduler {
            all: Vec::with_capacity(capacity),
            ready: Vec::with_capacity(capacity),
        }
    }

    /// Number of scheduled uops.
    pub fn len(&self) -> usize {
        self.all.len()
    }

    /// Schedule `seq`, the youngest uop in the ROB.
    pub fn push(&mut self, seq: u64, rob: &mut Rob) {
        self.all.push(seq);
        self.consider(seq, self.ready.len(), rob);
    }

    /// Make `seq` a candidate at position `pos` if its sources' cycles are all known,
    /// else wait for the producer whose cycle is not.
    fn consider(&mut self, seq: u64, pos: usize, rob: &mut Rob) {
        let e = rob.get(seq).expect("scheduled uops are in the ROB");
        match rob.sources_ready_at(&e.srcs[..usize::from(e.n_srcs)]) {
            Ok(cycle) => self.ready.insert(pos, (seq, cycle)),
            Err(producer) => rob.wait_for(producer, seq),
        }
    }

    /// The completion cycle of `producer` became known: reconsider the uops waiting
    /// for it.
    pub fn wake(&mut self, producer: u64, rob: &mut Rob) {
        let waiters = rob.take_waiters(producer);
        for &seq in &waiters {
            // A waiter squashed since is gone, or its number belongs to another uop,
            // which is then considered once more.
            if self.all.binary_search(&seq).is_err() {
                continue;
            }
            if let Err(pos) = self.ready.binary_search_by_key(&seq, |r| r.0) {
                self.consider(seq, pos, rob);
            }
        }
        rob.return_waiters(producer, waiters);
    }

    /// The `i`-th oldest candidate and the cycle its sources are available.
    pub fn candidate(&self, i: usize) -> Option<(u64, u64)> {
        self.ready.get(i).copied()
    }

    /// The `i`-th oldest candidate issued.
    pub fn remove_candidate(&mut self, i: usize) {
        let (seq, _) = self.ready.remove(i);
        let at = self
            .all
            .binary_search(&seq)
            .expect("candidates are scheduled");
        self.all.remove(at);
    }

    /// Drop the uops from `next` on (squashed).
    pub fn squash(&mut self, next: u64) {
        self.all.retain(|&s| s < next);
        self.ready.retain(|r| r.0 < next);
    }
}
