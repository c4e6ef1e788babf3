//! The seven endpoints of the AI Agents API as one small enum: the unit every request is timed,
//! counted and reported under.

use std::fmt;

/// One endpoint of the API. Metrics are kept per `Op`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    List,
    Create,
    Get,
    Patch,
    Delete,
    Run,
    RunStream,
}

impl Op {
    pub const ALL: [Op; 7] = [
        Op::List,
        Op::Create,
        Op::Get,
        Op::Patch,
        Op::Delete,
        Op::Run,
        Op::RunStream,
    ];

    /// The name used in scenario files, reports and threshold expressions.
    pub fn name(self) -> &'static str {
        match self {
            Op::List => "list",
            Op::Create => "create",
            Op::Get => "get",
            Op::Patch => "patch",
            Op::Delete => "delete",
            Op::Run => "run",
            Op::RunStream => "run_stream",
        }
    }

    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }

    /// Position in [`Op::ALL`], for array-indexed tables on the hot path.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_index_matches_all() {
        for (i, op) in Op::ALL.into_iter().enumerate() {
            assert_eq!(Op::from_name(op.name()), Some(op));
            assert_eq!(op.index(), i);
        }
        assert_eq!(Op::from_name("lifecycle"), None);
    }
}
