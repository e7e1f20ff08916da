//! The semantic decoders of the `cbor2` Mercurial 4.6/4.7 bundle
//! (`semantic_decoders` in `thirdparty/cbor/cbor2/decoder.py`), run on
//! Python 2.7: which values each accepts and, for the others, exactly
//! what it raises. cbor2 wraps what they raise as `CBORDecodeError: error
//! decoding value at index N: <str(e)>` unless it is a `CBORDecodeError`
//! already (`invalid datetime string: …`), so each decoder says which
//! ([`TagError`]).
//!
//! The objects they make (datetimes, decimals, patterns…) are kept as
//! [`Value::Opaque`] of their type: hgframe needs their type, not their
//! value. Not modelled (the value is taken as valid): a regular
//! expression's syntax (`re.compile` errors such as `nothing to repeat`),
//! `Decimal` and `Fraction` parts that are neither integers nor
//! one-character strings (longer numeric strings, floats in a decimal,
//! other objects), the values inside a `Decimal`, `Fraction` or MIME
//! message given to another tag (their float value, their headers), and
//! where Python's set and dict order decides between two failures; the
//! overflow of a bigfloat (tag 5) is found with a float estimate, exact
//! but within about 1e-7 of `Emax`.

use super::py2::{
    ascii_encode_error, char_repr, code_points, not_a_buffer, tp_name, utf8_decode_replace,
};
use super::value::{BigInt, SetBuilder, Value};
use super::Py;

/// Why a semantic decoder failed.
pub enum TagError {
    /// An exception cbor2 wraps: its `str()`.
    Wrapped(String),
    /// A `CBORDecodeError` raised as is: its message.
    Raw(String),
}

use TagError::{Raw, Wrapped};

type T = Result<Value, TagError>;

fn opaque(t: &'static str) -> T {
    Ok(Value::Opaque(t, format!("<{t}>")))
}

/// `decimal`'s default context: `Emax`, and the precision results are
/// rounded to.
const EMAX: i128 = 999_999_999;
const PREC: usize = 28;

/// 2^63 as a double: a time_t's range is [-2^63, 2^63).
const TWO_63: f64 = 9_223_372_036_854_775_808.0;

/// Run the decoder of `tag`; `None` when cbor2 has none (a `CBORTag`).
pub fn decode(tag: u64, value: Value) -> Option<T> {
    Some(match tag {
        0 => datetime_string(value),
        1 => epoch_datetime(&value),
        2 => bignum(&value).map(|(neg, mag)| BigInt::value(neg, &mag)),
        3 => bignum(&value).map(|(_, mag)| negate_minus_one(BigInt::value(false, &mag))),
        4 | 5 => decimal(tag, &value),
        30 => rational(&value),
        35 => regexp(value),
        36 => mime(&value),
        37 => uuid(&value),
        258 => set(value),
        _ => return None,
    })
}

/// `-n - 1` of a non-negative int.
fn negate_minus_one(v: Value) -> Value {
    match v {
        Value::Int(i) => Value::Int(-i - 1),
        Value::Big(b) => {
            // -(mag) - 1 = -(mag + 1)
            let mut m = b.mag.clone();
            let mut carry = true;
            for x in m.iter_mut().rev() {
                if !carry {
                    break;
                }
                let (y, c) = x.overflowing_add(1);
                *x = y;
                carry = c;
            }
            if carry {
                m.insert(0, 1);
            }
            BigInt::value(true, &m)
        }
        other => other,
    }
}

// ---------------------------------------------------------------------
// Tag 0: `timestamp_re.match(value)`, then `datetime(...)`.

fn datetime_string(value: Value) -> T {
    let (bytes, text) = match &value {
        Value::Bytes(b) | Value::ByteArray(b) => (b.clone(), false),
        Value::Str(s) => (s.clone(), true),
        _ => return Err(Wrapped("expected string or buffer".into())),
    };
    let re = regex::bytes::Regex::new(
        r"(?-u)\A(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:Z|([+-]\d\d):(\d\d))\n?\z",
    )
    .expect("a valid pattern");
    let Some(c) = re.captures(&bytes) else {
        // '…{}'.format(value): a unicode value goes through ASCII.
        if text {
            if let Some(e) = ascii_encode_error(&code_points(&bytes)) {
                return Err(Wrapped(e));
            }
        }
        return Err(Raw(format!(
            "invalid datetime string: {}",
            utf8_decode_replace(&bytes)
        )));
    };
    let field = |i: usize| -> u128 {
        c.get(i).map_or(0, |m| {
            m.as_bytes().iter().fold(0u128, |a, d| {
                a.saturating_mul(10).saturating_add((d - b'0') as u128)
            })
        })
    };
    // `datetime()` reads its arguments as C ints (only the microseconds
    // can be out of range), then checks the date, then the time.
    let micro = field(7);
    if micro > i64::MAX as u128 {
        return Err(Wrapped("Python int too large to convert to C long".into()));
    }
    if micro > i32::MAX as u128 {
        return Err(Wrapped("signed integer is greater than maximum".into()));
    }
    let (y, mo, d) = (field(1), field(2), field(3));
    check_date(y as i64, mo as i64, d as i64)?;
    let (h, mi, s) = (field(4), field(5), field(6));
    if h > 23 {
        return Err(Wrapped("hour must be in 0..23".into()));
    }
    if mi > 59 {
        return Err(Wrapped("minute must be in 0..59".into()));
    }
    if s > 59 {
        return Err(Wrapped("second must be in 0..59".into()));
    }
    if micro > 999_999 {
        return Err(Wrapped("microsecond must be in 0..999999".into()));
    }
    opaque("datetime")
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// `check_date_args` of Python 2.7's datetime module.
fn check_date(y: i64, mo: i64, d: i64) -> Result<(), TagError> {
    if !(1..=9999).contains(&y) {
        return Err(Wrapped("year is out of range".into()));
    }
    if !(1..=12).contains(&mo) {
        return Err(Wrapped("month must be in 1..12".into()));
    }
    let dim = match mo {
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 31,
    };
    if !(1..=dim).contains(&d) {
        return Err(Wrapped("day is out of range for month".into()));
    }
    Ok(())
}

// ---------------------------------------------------------------------
// Tag 1: `datetime.fromtimestamp(value, timezone.utc)`.

fn epoch_datetime(value: &Value) -> T {
    // The "d" argument format: PyFloat_AsDouble.
    let ts = match value {
        Value::Bool(b) => *b as i32 as f64,
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Big(b) => {
            big_to_f64(b).ok_or_else(|| Wrapped("long int too large to convert to float".into()))?
        }
        _ => return Err(Wrapped("a float is required".into())),
    };
    // _PyTime_DoubleToTimet: x86-64 turns a double out of range (or NaN)
    // into INT64_MIN.
    let mut timet: i64 = if ts.is_nan() || !(-TWO_63..TWO_63).contains(&ts) {
        i64::MIN
    } else {
        ts as i64
    };
    let diff = ts - timet as f64;
    if diff <= -1.0 || diff >= 1.0 {
        return Err(Wrapped("timestamp out of range for platform time_t".into()));
    }
    // round_to_long(fraction * 1e6), then Python's mod semantics.
    let x = (ts - timet as f64) * 1e6;
    let r = if x >= 0.0 {
        (x + 0.5).floor()
    } else {
        (x - 0.5).ceil()
    };
    let mut us = if r.is_nan() || !(-9.2e18..9.2e18).contains(&r) {
        i64::MIN
    } else {
        r as i64
    } as i32;
    if us < 0 {
        timet = timet.wrapping_sub(1);
        us += 1_000_000;
    }
    if us == 1_000_000 {
        timet = timet.wrapping_add(1);
    }
    // gmtime fails when tm_year (year - 1900) does not fit an int.
    let year = civil_year(timet);
    if year - 1900 < i32::MIN as i128 || year - 1900 > i32::MAX as i128 {
        return Err(Wrapped(
            "timestamp out of range for platform localtime()/gmtime() function".into(),
        ));
    }
    if !(1..=9999).contains(&year) {
        return Err(Wrapped("year is out of range".into()));
    }
    opaque("datetime")
}

/// The proleptic Gregorian year of a Unix time.
fn civil_year(t: i64) -> i128 {
    let days = (t as i128).div_euclid(86_400);
    // days_from_civil inverted (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    yoe + era * 400 + (m <= 2) as i128
}

/// A Python long as a double, rounded half to even; `None` past
/// `DBL_MAX`.
fn big_to_f64(b: &BigInt) -> Option<f64> {
    let mag = &b.mag;
    let bits = mag.len() * 8 - mag.first().map_or(8, |x| x.leading_zeros() as usize);
    let bit = |i: usize| -> u64 {
        // bit i counted from the most significant
        let pos = bits - 1 - i;
        ((mag[mag.len() - 1 - pos / 8] >> (pos % 8)) & 1) as u64
    };
    if bits <= 53 {
        let v = (0..bits).fold(0u64, |a, i| a << 1 | bit(i)) as f64;
        return Some(if b.neg { -v } else { v });
    }
    let mut m = (0..53).fold(0u64, |a, i| a << 1 | bit(i));
    let round = bit(53);
    let sticky = (54..bits).any(|i| bit(i) == 1);
    let mut exp = bits - 53;
    if round == 1 && (sticky || m & 1 == 1) {
        m += 1;
        if m == 1 << 53 {
            m >>= 1;
            exp += 1;
        }
    }
    if exp + 53 > 1024 {
        return None;
    }
    let v = m as f64 * 2f64.powi(exp as i32);
    Some(if b.neg { -v } else { v })
}

// ---------------------------------------------------------------------
// Tags 2 and 3: `int(hexlify(value), 16)`.

fn bignum(value: &Value) -> Result<(bool, Vec<u8>), TagError> {
    let bytes = match value {
        Value::Bytes(b) | Value::ByteArray(b) => b.clone(),
        // hexlify takes a unicode through the default (ASCII) codec.
        Value::Str(s) => {
            if let Some(e) = ascii_encode_error(&code_points(s)) {
                return Err(Wrapped(e));
            }
            s.clone()
        }
        other => return Err(Wrapped(not_a_buffer("b2a_hex", other))),
    };
    if bytes.is_empty() {
        return Err(Wrapped("invalid literal for int() with base 16: ''".into()));
    }
    Ok((false, bytes))
}

// ---------------------------------------------------------------------
// `value[i]` on Python 2.

/// `value[i]` for an int index: the item, or what Python raises.
fn getitem(value: &Value, i: usize) -> Result<Value, TagError> {
    let out_of_range = |what: &str| Err(Wrapped(format!("{what} index out of range")));
    match value {
        Value::List(x) => x.get(i).cloned().map_or_else(|| out_of_range("list"), Ok),
        Value::Tuple(x) => x.get(i).cloned().map_or_else(|| out_of_range("tuple"), Ok),
        Value::Bytes(b) => b
            .get(i)
            .map(|c| Value::Bytes(vec![*c]))
            .map_or_else(|| out_of_range("string"), Ok),
        Value::ByteArray(b) => b
            .get(i)
            .map(|c| Value::Int(*c as i128))
            .map_or_else(|| out_of_range("bytearray"), Ok),
        Value::Str(s) => code_points(s)
            .get(i)
            .map(|&c| Value::Str(char_utf8(c)))
            .map_or_else(|| out_of_range("string"), Ok),
        Value::Dict(d) => d
            .iter()
            .find(|(k, _)| k.py_eq_in(Py::Two, &Value::Int(i as i128)))
            .map(|(_, v)| v.clone())
            .ok_or_else(|| Wrapped(i.to_string())),
        // `Message.__getitem__(i)` lowercases the header name.
        Value::Opaque("instance", _) => {
            Err(Wrapped("'int' object has no attribute 'lower'".into()))
        }
        Value::Set(_) => Err(Wrapped("'set' object does not support indexing".into())),
        v if super::py2::is_python_class(v) => Err(Wrapped(format!(
            "'{}' object does not support indexing",
            tp_name(v)
        ))),
        v => Err(Wrapped(format!(
            "'{}' object has no attribute '__getitem__'",
            tp_name(v)
        ))),
    }
}

/// A code point as the (generalized) UTF-8 a text value holds.
fn char_utf8(c: u32) -> Vec<u8> {
    match char::from_u32(c) {
        Some(ch) => ch.to_string().into_bytes(),
        // a surrogate: three bytes, as Python 2 encodes it
        None => vec![
            0xe0 | (c >> 12) as u8,
            0x80 | ((c >> 6) & 0x3f) as u8,
            0x80 | (c & 0x3f) as u8,
        ],
    }
}

/// A one-character string value: its code point and whether it is
/// unicode.
fn one_char(v: &Value) -> Option<(u32, bool)> {
    match v {
        Value::Bytes(b) if b.len() == 1 => Some((b[0] as u32, false)),
        Value::Str(s) => match code_points(s)[..] {
            [c] => Some((c, true)),
            _ => None,
        },
        _ => None,
    }
}

/// An integer value's sign and decimal digits.
fn int_digits(v: &Value) -> Option<(bool, String)> {
    match v {
        Value::Bool(b) => Some((false, (*b as u8).to_string())),
        Value::Int(i) => Some((*i < 0, i.unsigned_abs().to_string())),
        Value::Big(b) => Some((b.neg, b.to_decimal().trim_start_matches('-').to_string())),
        _ => None,
    }
}

// ---------------------------------------------------------------------
// Tags 4 and 5: `Decimal(value[1]) * (10 or 2) ** Decimal(value[0])`.

/// `Decimal(x)` of an integer or a one-character string: sign and
/// digits; `Ok(None)` for what is not modelled (taken as valid).
fn to_decimal(x: &Value) -> Result<Option<(bool, String)>, TagError> {
    if let Some(d) = int_digits(x) {
        return Ok(Some(d));
    }
    match x {
        Value::None => Err(Wrapped("Cannot convert None to Decimal".into())),
        _ => match one_char(x) {
            Some((c, _)) if (b'0' as u32..=b'9' as u32).contains(&c) => {
                Ok(Some((false, ((c as u8 - b'0') as char).to_string())))
            }
            Some((c, unicode)) => Err(Wrapped(format!(
                "Invalid literal for Decimal: {}",
                char_repr(c, unicode)
            ))),
            None => Ok(None),
        },
    }
}

fn decimal(tag: u64, value: &Value) -> T {
    let exp = to_decimal(&getitem(value, 0)?)?;
    let mantissa = to_decimal(&getitem(value, 1)?)?;
    let name = "Decimal";
    let (Some((eneg, edigits)), Some((_, mdigits))) = (exp, mantissa) else {
        return opaque(name);
    };
    let over = || Err(Wrapped("above Emax".into()));
    // Negative exponents only underflow (not trapped).
    if eneg {
        return opaque(name);
    }
    let e: i128 = if edigits.len() > 20 {
        i128::MAX
    } else {
        edigits.parse().unwrap_or(i128::MAX)
    };
    let mzero = mdigits.bytes().all(|d| d == b'0');
    if tag == 4 {
        // 10 ** e is exact (1E+e) up to Emax.
        if e > EMAX {
            return over();
        }
        if mzero {
            return opaque(name);
        }
        // The product rounded to 28 digits: a carry adds a digit.
        let digits = mdigits.trim_start_matches('0');
        let mut adjusted = digits.len() as i128 - 1 + e;
        if digits.len() > PREC && rounds_up_to_power(digits) {
            adjusted += 1;
        }
        if adjusted > EMAX {
            return over();
        }
        return opaque(name);
    }
    // 2 ** e, then the product: their adjusted exponent estimated.
    let log2 = std::f64::consts::LOG10_2;
    if (e as f64) * log2 >= (EMAX + 1) as f64 {
        return over();
    }
    if mzero {
        return opaque(name);
    }
    let digits = mdigits.trim_start_matches('0');
    let lead: f64 = digits[..digits.len().min(17)].parse().unwrap_or(1.0);
    let lm = lead.log10() + (digits.len() - digits.len().min(17)) as f64;
    if (lm + e as f64 * log2).floor() > EMAX as f64 {
        return over();
    }
    opaque(name)
}

/// Whether rounding these digits (more than 28) half-even to 28 carries
/// into a new leading digit.
fn rounds_up_to_power(digits: &str) -> bool {
    let d = digits.as_bytes();
    if !d[..PREC].iter().all(|&c| c == b'9') {
        return false;
    }
    let first = d[PREC];
    let rest_nonzero = d[PREC + 1..].iter().any(|&c| c != b'0');
    first > b'5' || (first == b'5' && (rest_nonzero || (d[PREC - 1] - b'0') % 2 == 1))
}

// ---------------------------------------------------------------------
// Tag 30: `Fraction(*value)`.

/// The items `*value` unpacks to, or what Python raises.
fn unpack(value: &Value, call: &str) -> Result<Vec<Value>, TagError> {
    Ok(match value {
        Value::List(x) | Value::Tuple(x) | Value::Set(x) => x.clone(),
        Value::Dict(d) => d.iter().map(|(k, _)| k.clone()).collect(),
        Value::Bytes(b) => b.iter().map(|c| Value::Bytes(vec![*c])).collect(),
        Value::ByteArray(b) => b.iter().map(|c| Value::Int(*c as i128)).collect(),
        Value::Str(s) => code_points(s)
            .into_iter()
            .map(|c| Value::Str(char_utf8(c)))
            .collect(),
        Value::Opaque("instance", _) => {
            return Err(Wrapped("'int' object has no attribute 'lower'".into()))
        }
        other => {
            return Err(Wrapped(format!(
                "{call} argument after * must be an iterable, not {}",
                tp_name(other)
            )))
        }
    })
}

fn is_rational(v: &Value) -> bool {
    matches!(
        v,
        Value::Bool(_) | Value::Int(_) | Value::Big(_) | Value::Opaque("Fraction", _)
    )
}

fn rational(value: &Value) -> T {
    let args = unpack(value, "ABCMeta object")?;
    match &args[..] {
        [] => {}
        [x] => {
            if is_rational(x) {
                return opaque("Fraction");
            }
            match x {
                Value::Float(f) if f.is_nan() => {
                    return Err(Wrapped("Cannot convert nan to Fraction.".into()))
                }
                Value::Float(f) if f.is_infinite() => {
                    let s = if *f > 0.0 { "inf" } else { "-inf" };
                    return Err(Wrapped(format!("Cannot convert {s} to Fraction.")));
                }
                Value::Float(_) | Value::Opaque("Decimal", _) => {}
                Value::Bytes(_) | Value::Str(_) => {
                    if let Some((c, unicode)) = one_char(x) {
                        if !(b'0' as u32..=b'9' as u32).contains(&c) {
                            return Err(Wrapped(format!(
                                "Invalid literal for Fraction: {}",
                                char_repr(c, unicode)
                            )));
                        }
                    }
                }
                _ => {
                    return Err(Wrapped(
                        "argument should be a string or a Rational instance".into(),
                    ))
                }
            }
        }
        [n, d] => {
            if !(is_rational(n) && is_rational(d)) {
                return Err(Wrapped(
                    "both arguments should be Rational instances".into(),
                ));
            }
            let zero = match d {
                Value::Bool(b) => !*b,
                Value::Int(i) => *i == 0,
                _ => false,
            };
            if zero {
                // the numerator as an int (`numerator.numerator`)
                let shown = match int_digits(n) {
                    Some((neg, digits)) => format!("{}{digits}", if neg { "-" } else { "" }),
                    None => "?".into(),
                };
                return Err(Wrapped(format!("Fraction({shown}, 0)")));
            }
        }
        more => {
            return Err(Wrapped(format!(
                "__new__() takes at most 3 arguments ({} given)",
                more.len() + 1
            )))
        }
    }
    opaque("Fraction")
}

// ---------------------------------------------------------------------
// Tags 35, 36, 37, 258.

fn regexp(value: Value) -> T {
    match &value {
        // The `re` cache hashes the pattern first.
        Value::List(_) | Value::Dict(_) | Value::Set(_) | Value::ByteArray(_) => {
            Err(Wrapped(format!("unhashable type: '{}'", value.type_name())))
        }
        Value::Opaque("cyclic", _) => Err(Wrapped("unhashable type: 'list'".into())),
        Value::Bytes(_) | Value::Str(_) => opaque("SRE_Pattern"),
        Value::Opaque("SRE_Pattern", _) => Ok(value),
        _ => Err(Wrapped(
            "first argument must be string or compiled pattern".into(),
        )),
    }
}

fn mime(value: &Value) -> T {
    match value {
        Value::Bytes(_) | Value::ByteArray(_) => opaque("instance"),
        Value::Str(s) => match ascii_encode_error(&code_points(s)) {
            Some(e) => Err(Wrapped(e)),
            None => opaque("instance"),
        },
        other => Err(Wrapped(not_a_buffer("StringIO", other))),
    }
}

fn uuid(value: &Value) -> T {
    let items: Vec<Value> = match value {
        Value::None => {
            return Err(Wrapped(
                "need one of hex, bytes, bytes_le, fields, or int".into(),
            ))
        }
        Value::Bytes(_)
        | Value::ByteArray(_)
        | Value::Str(_)
        | Value::List(_)
        | Value::Tuple(_)
        | Value::Set(_)
        | Value::Dict(_) => unpack(value, "")?,
        // A message's length is its number of headers (hgframe keeps
        // none).
        Value::Opaque("instance", _) => Vec::new(),
        other => {
            return Err(Wrapped(format!(
                "object of type '{}' has no len()",
                tp_name(other)
            )))
        }
    };
    if items.len() != 16 {
        return Err(Wrapped("bytes is not a 16-char string".into()));
    }
    // long(('%02x'*16) % tuple(map(ord, bytes)), 16)
    let mut hex = String::new();
    for it in &items {
        let c = match it {
            Value::Bytes(b) if b.len() == 1 => b[0] as u32,
            Value::Bytes(b) => {
                return Err(Wrapped(format!(
                    "ord() expected a character, but string of length {} found",
                    b.len()
                )))
            }
            Value::Str(s) => match code_points(s)[..] {
                [c] => c,
                ref cs => {
                    return Err(Wrapped(format!(
                        "ord() expected a character, but string of length {} found",
                        cs.len()
                    )))
                }
            },
            other => {
                return Err(Wrapped(format!(
                    "ord() expected string of length 1, but {} found",
                    tp_name(other)
                )))
            }
        };
        hex.push_str(&format!("{c:02x}"));
    }
    let significant = hex.trim_start_matches('0');
    if significant.len() > 32 {
        return Err(Wrapped("int is out of range (need a 128-bit value)".into()));
    }
    opaque("UUID")
}

fn set(value: Value) -> T {
    let members = match &value {
        Value::Opaque("instance", _) => {
            return Err(Wrapped("'int' object has no attribute 'lower'".into()))
        }
        Value::List(_)
        | Value::Tuple(_)
        | Value::Set(_)
        | Value::Dict(_)
        | Value::Bytes(_)
        | Value::ByteArray(_)
        | Value::Str(_) => unpack(&value, "")?,
        other => {
            return Err(Wrapped(format!(
                "'{}' object is not iterable",
                tp_name(other)
            )))
        }
    };
    let mut s = SetBuilder::new(Py::Two);
    for m in members {
        if let Value::Opaque("cyclic", _) = m {
            return Err(Wrapped("unhashable type: 'list'".into()));
        }
        if let Err(e) = m.check_hashable() {
            return Err(Wrapped(e.to_string()));
        }
        s.add(m);
    }
    Ok(Value::Set(s.into_items()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(tag: u64, v: Value) -> String {
        match decode(tag, v).unwrap() {
            Err(Wrapped(e)) => format!("wrapped: {e}"),
            Err(Raw(e)) => format!("raw: {e}"),
            Ok(v) => format!("ok: {v:?}"),
        }
    }

    #[test]
    fn errors_read_as_python_2_7_raises_them() {
        // Each checked against Mercurial 4.7.2's cbor2 on Python 2.7.18.
        assert_eq!(
            err(0, Value::bytes("2013-02-29T20:04:00Z")),
            "wrapped: day is out of range for month"
        );
        assert_eq!(
            err(0, Value::bytes("2013-01-01T00:00:00Z\n")),
            "ok: Opaque(\"datetime\", \"<datetime>\")"
        );
        assert_eq!(
            err(0, Value::bytes("x\u{e9}")),
            "raw: invalid datetime string: x\u{e9}"
        );
        assert_eq!(err(0, Value::Int(1)), "wrapped: expected string or buffer");
        assert_eq!(
            err(1, Value::Int(253_402_300_800)),
            "wrapped: year is out of range"
        );
        assert_eq!(
            err(1, Value::Int(100_000_000_000_000_000)),
            "wrapped: timestamp out of range for platform localtime()/gmtime() function"
        );
        assert_eq!(
            err(1, Value::Int(i64::MAX as i128)),
            "wrapped: timestamp out of range for platform time_t"
        );
        assert_eq!(
            err(1, Value::Int(i64::MIN as i128)),
            "wrapped: timestamp out of range for platform localtime()/gmtime() function"
        );
        assert_eq!(
            err(1, Value::Float(f64::NAN)),
            "wrapped: timestamp out of range for platform localtime()/gmtime() function"
        );
        assert_eq!(err(1, Value::None), "wrapped: a float is required");
        assert_eq!(
            err(2, Value::Int(1)),
            "wrapped: b2a_hex() argument 1 must be string or buffer, not int"
        );
        assert_eq!(err(2, Value::Str("caf\u{e9}".into())), "wrapped: 'ascii' codec can't encode character u'\\xe9' in position 3: ordinal not in range(128)");
        assert_eq!(
            err(2, Value::Bytes(vec![])),
            "wrapped: invalid literal for int() with base 16: ''"
        );
        assert_eq!(
            err(4, Value::List(vec![Value::Int(1)])),
            "wrapped: list index out of range"
        );
        assert_eq!(err(4, Value::Dict(vec![])), "wrapped: 0");
        assert_eq!(
            err(4, Value::Bytes(b"a".to_vec())),
            "wrapped: Invalid literal for Decimal: 'a'"
        );
        assert_eq!(
            err(
                4,
                Value::List(vec![Value::Int(1_000_000_000), Value::Int(1)])
            ),
            "wrapped: above Emax"
        );
        assert_eq!(
            err(
                4,
                Value::List(vec![Value::Int(999_999_999), Value::Int(10)])
            ),
            "wrapped: above Emax"
        );
        assert_eq!(
            err(30, Value::List(vec![Value::Bool(true), Value::Bool(false)])),
            "wrapped: Fraction(1, 0)"
        );
        assert_eq!(
            err(30, Value::Float(0.5)),
            "wrapped: ABCMeta object argument after * must be an iterable, not float"
        );
        assert_eq!(
            err(30, Value::List(vec![Value::Int(1); 3])),
            "wrapped: __new__() takes at most 3 arguments (4 given)"
        );
        assert_eq!(
            err(35, Value::None),
            "wrapped: first argument must be string or compiled pattern"
        );
        assert_eq!(
            err(36, Value::Opaque("UUID", String::new())),
            "wrapped: StringIO() argument 1 must be convertible to a buffer, not UUID"
        );
        assert_eq!(
            err(37, Value::List(vec![Value::Int(1); 16])),
            "wrapped: ord() expected string of length 1, but int found"
        );
        assert_eq!(
            err(258, Value::None),
            "wrapped: 'NoneType' object is not iterable"
        );
    }
}
