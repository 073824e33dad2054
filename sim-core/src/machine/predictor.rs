//! Branch prediction at decode: bimodal direction counters, a branch-target buffer for
//! indirect jumps, and a return stack. Prediction only affects timing, never results.

use super::config::CoreConfig;

/// A saved return-stack position, restored when the pipeline is squashed.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub struct RasCheckpoint {
    top: usize,
    depth: usize,
}

/// A taken branch as the fetch unit sees it: the 16-byte block holding its last
/// byte, that byte's offset, and where fetch should continue.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct BlockExit {
    block: u64,
    end_offset: u64,
    target: u64,
}

/// Direction, target and return-address predictors of one core.
#[derive(Clone, Debug)]
pub struct Predictor {
    counters: Vec<u8>,
    btb: Vec<(u64, u64)>,
    exits: Vec<BlockExit>,
    ras: Vec<u64>,
    ras_at: RasCheckpoint,
}

fn slot(ip: u64, len: usize) -> usize {
    ((ip ^ (ip >> 12)) as usize) & (len - 1)
}

impl Predictor {
    /// Predictors sized by `config` (table sizes rounded up to powers of two).
    pub fn new(config: &CoreConfig) -> Predictor {
        Predictor {
            counters: vec![1; config.bimodal_entries.next_power_of_two()],
            btb: vec![(u64::MAX, 0); config.btb_entries.next_power_of_two()],
            exits: vec![
                BlockExit {
                    block: u64::MAX,
                    end_offset: 0,
                    target: 0
                };
                config.btb_entries.next_power_of_two()
            ],
            ras: vec![0; config.ras_entries.max(1)],
            ras_at: RasCheckpoint::default(),
        }
    }

    /// Predicted direction of the conditional branch at `ip`.
    pub fn taken(&self, ip: u64) -> bool {
        self.counters[slot(ip, self.counters.len())] >= 2
    }

    /// Train the direction counter of `ip` with the resolved outcome.
    pub fn train(&mut self, ip: u64, taken: bool) {
        let i = slot(ip, self.counters.len());
        let c = &mut self.counters[i];
        *c = if taken {
            (*c + 1).min(3)
        } else {
            c.saturating_sub(1)
        };
    }

    /// Last seen target of the indirect branch at `ip`.
    pub fn target(&self, ip: u64) -> Option<u64> {
        let (tag, target) = self.btb[slot(ip, self.btb.len())];
        (tag == ip).then_some(target)
    }

    /// Remember the resolved target of the branch at `ip`.
    pub fn train_target(&mut self, ip: u64, target: u64) {
        let n = self.btb.len();
        self.btb[slot(ip, n)] = (ip, target);
    }

    /// Where fetch goes after the block at `block` entered at `offset`: the target of a
    /// taken branch seen in it at or after that offset, if any.
    pub fn block_exit(&self, block: u64, offset: u64) -> Option<u64> {
        let e = self.exits[slot(block, self.exits.len())];
        (e.block == block && e.end_offset >= offset).then_some(e.target)
    }

    /// Decode found a taken branch whose last byte is at `last_byte`, going to `target`.
    pub fn learn_exit(&mut self, last_byte: u64, target: u64) {
        let n = self.exits.len();
        let block = last_byte & !15;
        self.exits[slot(block, n)] = BlockExit {
            block,
            end_offset: last_byte & 15,
            target,
        };
    }

    /// Fetch left `block` early for nothing: forget that exit.
    pub fn forget_exit(&mut self, block: u64) {
        let n = self.exits.len();
        let e = &mut self.exits[slot(block, n)];
        if e.block == block {
            e.block = u64::MAX;
        }
    }

    /// A call was decoded: predict that the matching `ret` returns to `ret_addr`.
    pub fn push_return(&mut self, ret_addr: u64) {
        let n = self.ras.len();
        self.ras[self.ras_at.top] = ret_addr;
        self.ras_at.top = (self.ras_at.top + 1) % n;
        self.ras_at.depth = (self.ras_at.depth + 1).min(n);
    }

    /// A `ret` was decoded: the predicted return address, if the stack has one.
    pub fn pop_return(&mut self) -> Option<u64> {
        if self.ras_at.depth == 0 {
            return None;
        }
        let n = self.ras.len();
        self.ras_at.top = (self.ras_at.top + n - 1) % n;
        self.ras_at.depth -= 1;
        Some(self.ras[self.ras_at.top])
    }

    /// The current return-stack position.
    pub fn checkpoint(&self) -> RasCheckpoint {
        self.ras_at
    }

    /// Go back to a saved return-stack position (after a squash).
    pub fn restore(&mut self, at: RasCheckpoint) {
        self.ras_at = at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bimodal_learns_and_hysteresis_holds() {
        let mut p = Predictor::new(&CoreConfig::default());
        assert!(!p.taken(0x40));
        p.train(0x40, true);
        p.train(0x40, true);
        assert!(p.taken(0x40));
        p.train(0x40, false);
        assert!(
            p.taken(0x40),
            "one not-taken does not flip a strong counter"
        );
        p.train(0x40, false);
        assert!(!p.taken(0x40));
    }

    #[test]
    fn block_exits_send_fetch_to_the_target() {
        let mut p = Predictor::new(&CoreConfig::default());
        assert_eq!(p.block_exit(0x1000, 0), None);
        p.learn_exit(0x100b, 0x2000);
        assert_eq!(p.block_exit(0x1000, 0), Some(0x2000));
        assert_eq!(p.block_exit(0x1000, 0xc), None, "entered after the branch");
        p.forget_exit(0x1000);
        assert_eq!(p.block_exit(0x1000, 0), None);
    }

    #[test]
    fn btb_and_return_stack() {
        let mut p = Predictor::new(&CoreConfig::default());
        assert_eq!(p.target(0x10), None);
        p.train_target(0x10, 0x99);
        assert_eq!(p.target(0x10), Some(0x99));
        let empty = p.checkpoint();
        p.push_return(0x105);
        p.push_return(0x205);
        let two = p.checkpoint();
        assert_eq!(p.pop_return(), Some(0x205));
        assert_eq!(p.pop_return(), Some(0x105));
        assert_eq!(p.pop_return(), None);
        p.restore(two);
        assert_eq!(p.pop_return(), Some(0x205));
        p.restore(empty);
        assert_eq!(p.pop_return(), None);
    }
}
