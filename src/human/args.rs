//! Command arguments as people type them: `NAME=VALUE` words, and commands
//! joined with `+` (`heads + known nodes=hexlist:00ff`), as `send`, the
//! REPL's `:run` and the `cmd` shorthand read them.
//!
//! A value is `cbor:<python literal>`, `hex:<hex bytes>`,
//! `hexlist:<hex>,<hex>,...` (a list of bytes, e.g. node ids) or plain text
//! (bytes). No I/O.

use crate::python::escape::unhex;
use crate::python::value::{DictBuilder, Value};
use crate::python::Py;

/// A value that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("argument {name}={value:?}: {why}")]
pub struct ArgValueError {
    pub name: String,
    pub value: String,
    pub why: String,
}

/// Parse one argument value.
pub fn parse_arg_value(name: &str, v: &str) -> Result<Value, ArgValueError> {
    let bad = |why: String| ArgValueError {
        name: name.to_string(),
        value: v.to_string(),
        why,
    };
    if let Some(lit) = v.strip_prefix("cbor:") {
        let val = crate::python::literal::parse_literal(lit)
            .map_err(|e| bad(format!("bad literal at {}: {}", e.pos, e.message)))?;
        crate::python::cbor::encode(&val).map_err(|e| bad(e.to_string()))?;
        return Ok(val);
    }
    if let Some(h) = v.strip_prefix("hex:") {
        return unhex(h).map(Value::Bytes).map_err(|e| bad(e.to_string()));
    }
    if let Some(list) = v.strip_prefix("hexlist:") {
        let mut items = Vec::new();
        for h in list.split(',').filter(|s| !s.is_empty()) {
            items.push(Value::Bytes(
                unhex(h).map_err(|e| bad(format!("{h}: {e}")))?,
            ));
        }
        return Ok(Value::List(items));
    }
    Ok(Value::bytes(v))
}

/// One command with its arguments, in the order given (later duplicates
/// replace earlier ones, as in a Python dict).
#[derive(Debug, Clone, PartialEq)]
pub struct CommandCall {
    pub name: String,
    pub args: Vec<(Value, Value)>,
}

/// Why a command list does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandsError {
    #[error("empty command around `+` (expected COMMAND [NAME=VALUE ...] + COMMAND ...)")]
    Empty,
    #[error("{0:?} looks like an argument, but a command name was expected first")]
    ArgumentFirst(String),
    #[error("argument {arg:?} of {command}: expected NAME=VALUE")]
    NotNameValue { arg: String, command: String },
    #[error(transparent)]
    Value(#[from] ArgValueError),
}

/// `COMMAND [NAME=VALUE ...] [+ COMMAND [NAME=VALUE ...] ...]`.
pub fn parse_commands(words: &[String]) -> Result<Vec<CommandCall>, CommandsError> {
    let mut cmds = Vec::new();
    for group in words.split(|w| w == "+") {
        let Some((name, rest)) = group.split_first() else {
            return Err(CommandsError::Empty);
        };
        if name.contains('=') {
            return Err(CommandsError::ArgumentFirst(name.clone()));
        }
        let mut args = DictBuilder::new(Py::Three);
        for a in rest {
            let Some((k, v)) = a.split_once('=') else {
                return Err(CommandsError::NotNameValue {
                    arg: a.clone(),
                    command: name.clone(),
                });
            };
            args.insert(Value::bytes(k), parse_arg_value(k, v)?);
        }
        cmds.push(CommandCall {
            name: name.clone(),
            args: args.into_pairs(),
        });
    }
    Ok(cmds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        let c = parse_commands(&[
            "heads".into(),
            "+".into(),
            "known".into(),
            "nodes=hexlist:00,ff".into(),
        ])
        .unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[1].args[0].1,
            Value::List(vec![Value::bytes(vec![0]), Value::bytes(vec![0xff])])
        );
        assert!(parse_commands(&["a=b".into()]).is_err());
        assert!(parse_commands(&["heads".into(), "x".into()]).is_err());
        assert_eq!(
            parse_arg_value("n", "cbor:[1]").unwrap(),
            Value::List(vec![Value::Int(1)])
        );
    }
}
