//! Parameter sweeps: one scenario run over the cartesian product of parameter
//! values (and of its variants), every point over the same seeds, one row of
//! statistics per point.
//!
//! [`Sweep`] is the checked definition, from a sweep file or from arguments;
//! [`run`] runs a slice of its points ([`Shard`]) on a rayon pool and streams
//! the rows in point order; [`Output`] appends them to a CSV or JSON Lines file
//! (flushed row by row, resumable by the same sweep only) and [`merge`] joins
//! shard files into what a single run writes. `docs/sweeps.md` describes the
//! format and the columns.

mod definition;
mod execute;
mod measure;
mod output;
mod param;
mod row;
mod stats;

pub use definition::{Point, Shard, Sweep};
pub use execute::{SweepError, run};
pub use output::{Merged, Output, OutputError, merge};
pub use param::{MAX_VALUES, Param, ParamError, Target};
pub use row::{Cell, Format, Table};
pub use stats::{Rate, Summary, summarize, wilson};
