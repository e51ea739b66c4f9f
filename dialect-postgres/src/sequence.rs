//! Sequence options: how `pg_sequence` is written into the model and read back from it.
//!
//! A free-standing sequence is stored with every option spelled out, which `CREATE SEQUENCE`
//! and `ALTER SEQUENCE` both accept. An identity column stores only the options that differ
//! from what `GENERATED ... AS IDENTITY` would choose by itself, so a plain identity column has
//! no options at all.

use godwit_core::dialect::RenderError;

/// The options of one sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SequenceOptions {
    /// `smallint`, `integer` or `bigint`.
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
}

impl SequenceOptions {
    /// What PostgreSQL picks for a sequence of `data_type` counting by `increment`: ascending
    /// sequences run from 1 to the type's maximum, descending ones from -1 to its minimum.
    pub(crate) fn defaults(data_type: &str, increment: i64) -> SequenceOptions {
        let (low, high) = match data_type {
            "smallint" => (i64::from(i16::MIN), i64::from(i16::MAX)),
            "integer" => (i64::from(i32::MIN), i64::from(i32::MAX)),
            _ => (i64::MIN, i64::MAX),
        };
        let (min, max, start) = if increment > 0 {
            (1, high, 1)
        } else {
            (low, -1, -1)
        };
        SequenceOptions {
            data_type: data_type.to_string(),
            start,
            increment,
            min,
            max,
            cache: 1,
            cycle: false,
        }
    }

    /// Every option, as `CREATE SEQUENCE` and `ALTER SEQUENCE` take them.
    pub(crate) fn definition(&self) -> String {
        format!(
            "AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {} {}",
            self.data_type,
            self.increment,
            self.min,
            self.max,
            self.start,
            self.cache,
            if self.cycle { "CYCLE" } else { "NO CYCLE" }
        )
    }

    /// The options that differ from an identity column's defaults, or `None`.
    pub(crate) fn identity_options(&self) -> Option<String> {
        let defaults = SequenceOptions::defaults(&self.data_type, self.increment);
        let mut parts = Vec::new();
        if self.increment != 1 {
            parts.push(format!("INCREMENT BY {}", self.increment));
        }
        if self.min != defaults.min {
            parts.push(format!("MINVALUE {}", self.min));
        }
        if self.max != defaults.max {
            parts.push(format!("MAXVALUE {}", self.max));
        }
        // START defaults to MINVALUE (ascending) or MAXVALUE (descending), as given.
        let default_start = if self.increment > 0 {
            self.min
        } else {
            self.max
        };
        if self.start != default_start {
            parts.push(format!("START WITH {}", self.start));
        }
        if self.cache != 1 {
            parts.push(format!("CACHE {}", self.cache));
        }
        if self.cycle {
            parts.push("CYCLE".into());
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// Read back what [`SequenceOptions::identity_options`] wrote, for a column of `data_type`.
    pub(crate) fn from_identity(
        data_type: &str,
        options: Option<&str>,
    ) -> Result<SequenceOptions, RenderError> {
        let invalid = || {
            RenderError::Impossible(format!(
                "cannot read identity options `{}`",
                options.unwrap_or_default()
            ))
        };
        let words: Vec<&str> = options.unwrap_or_default().split_whitespace().collect();
        let mut given: Vec<(&str, i64)> = Vec::new();
        let mut cycle = false;
        let mut i = 0;
        while i < words.len() {
            let (keyword, width) = match (words[i], words.get(i + 1).copied()) {
                ("INCREMENT", Some("BY")) => ("INCREMENT", 3),
                ("START", Some("WITH")) => ("START", 3),
                ("MINVALUE" | "MAXVALUE" | "CACHE", _) => (words[i], 2),
                ("CYCLE", _) => {
                    cycle = true;
                    i += 1;
                    continue;
                }
                _ => return Err(invalid()),
            };
            let value = words
                .get(i + width - 1)
                .and_then(|v| v.parse().ok())
                .ok_or_else(invalid)?;
            given.push((keyword, value));
            i += width;
        }
        let find = |keyword: &str| given.iter().find(|(k, _)| *k == keyword).map(|(_, v)| *v);
        let mut options = SequenceOptions::defaults(data_type, find("INCREMENT").unwrap_or(1));
        options.min = find("MINVALUE").unwrap_or(options.min);
        options.max = find("MAXVALUE").unwrap_or(options.max);
        let default_start = if options.increment > 0 {
            options.min
        } else {
            options.max
        };
        options.start = find("START").unwrap_or(default_start);
        options.cache = find("CACHE").unwrap_or(options.cache);
        options.cycle = cycle;
        Ok(options)
    }

    /// `SET` clauses for `ALTER TABLE ... ALTER COLUMN`, giving every option explicitly, so
    /// options the model no longer lists go back to their defaults.
    pub(crate) fn set_clauses(&self) -> String {
        format!(
            "SET INCREMENT BY {} SET MINVALUE {} SET MAXVALUE {} SET START WITH {} SET CACHE {} SET {}",
            self.increment,
            self.min,
            self.max,
            self.start,
            self.cache,
            if self.cycle { "CYCLE" } else { "NO CYCLE" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(data_type: &str, start: i64, increment: i64, min: i64, max: i64) -> SequenceOptions {
        SequenceOptions {
            data_type: data_type.into(),
            start,
            increment,
            min,
            max,
            cache: 1,
            cycle: false,
        }
    }

    #[test]
    fn default_identities_have_no_options() {
        assert_eq!(
            options("integer", 1, 1, 1, 2_147_483_647).identity_options(),
            None
        );
        assert_eq!(
            options("smallint", 1, 1, 1, 32_767).identity_options(),
            None
        );
        // A descending sequence's bounds and start follow from its increment.
        assert_eq!(
            options("bigint", -1, -1, i64::MIN, -1)
                .identity_options()
                .as_deref(),
            Some("INCREMENT BY -1")
        );
    }

    #[test]
    fn identity_options_round_trip() {
        for original in [
            options("integer", 100, 5, 1, 2_147_483_647),
            options("bigint", 10, 1, 10, 1000),
            options("bigint", -5, -1, -100, -5),
            SequenceOptions {
                cache: 20,
                cycle: true,
                ..options("smallint", 1, 1, 1, 32_767)
            },
        ] {
            let text = original.identity_options();
            let back =
                SequenceOptions::from_identity(&original.data_type, text.as_deref()).unwrap();
            assert_eq!(back, original, "{text:?}");
        }
        assert_eq!(
            options("integer", 100, 5, 1, 2_147_483_647)
                .identity_options()
                .as_deref(),
            Some("INCREMENT BY 5 START WITH 100")
        );
    }

    #[test]
    fn unreadable_identity_options_are_refused() {
        assert!(SequenceOptions::from_identity("integer", Some("START 5")).is_err());
        assert!(SequenceOptions::from_identity("integer", Some("CACHE")).is_err());
    }
}
