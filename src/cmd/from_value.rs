//! `FromValue`: replies into Rust types, on the caller's task.
//!
//! A top-level error reply never reaches these conversions: the reply future
//! turns it into [`Error`] with kind `Server` first. A reply of the wrong shape
//! gives an error of kind `TypeConversion` naming what was found and what was
//! wanted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, Hash};

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::resp::Value;

/// A type a reply can be converted into.
///
/// ```
/// use redmux::{FromValue, Value};
/// let n = i64::from_value(Value::BulkString("42".into())).unwrap();
/// assert_eq!(n, 42);
/// let missing: Option<String> = FromValue::from_value(Value::Nil).unwrap();
/// assert_eq!(missing, None);
/// ```
pub trait FromValue: Sized {
    /// Converts a reply.
    ///
    /// # Errors
    /// Kind `TypeConversion` if the reply's type or content does not fit.
    fn from_value(value: Value) -> Result<Self>;

    /// Converts a bulk string into a `Vec<Self>`; only `u8` does, which is how
    /// `Vec<u8>` reads a bulk string while `Vec<T>` reads an array.
    #[doc(hidden)]
    fn vec_from_bytes(_bytes: Bytes) -> Option<Vec<Self>> {
        None
    }

    /// Converts the elements of an array into a `Vec<Self>`, one each; a
    /// pair overrides it to also read RESP2's flat `[a1, b1, a2, b2, …]`
    /// (WITHSCORES, HRANDFIELD WITHVALUES) as RESP3's `[[a1, b1], …]`.
    #[doc(hidden)]
    fn vec_from_items(items: Vec<Value>) -> Result<Vec<Self>> {
        items.into_iter().map(Self::from_value).collect()
    }
}

fn mismatch<T>(value: &Value) -> Error {
    Error::type_conversion(value.type_name(), std::any::type_name::<T>(), None)
}

fn invalid<T>(value: &Value, detail: String) -> Error {
    Error::type_conversion(value.type_name(), std::any::type_name::<T>(), Some(detail))
}

impl FromValue for Value {
    fn from_value(value: Value) -> Result<Value> {
        Ok(value)
    }
}

impl FromValue for () {
    fn from_value(_: Value) -> Result<()> {
        Ok(())
    }
}

/// The bytes of any string-like reply.
fn string_bytes(value: &Value) -> Option<&Bytes> {
    match value {
        Value::BulkString(b) | Value::SimpleString(b) | Value::BigNumber(b) => Some(b),
        Value::VerbatimString { text, .. } => Some(text),
        _ => None,
    }
}

impl FromValue for Bytes {
    fn from_value(value: Value) -> Result<Bytes> {
        match value {
            Value::BulkString(b) | Value::SimpleString(b) | Value::BigNumber(b) => Ok(b),
            Value::VerbatimString { text, .. } => Ok(text),
            other => Err(mismatch::<Bytes>(&other)),
        }
    }
}

impl FromValue for String {
    fn from_value(value: Value) -> Result<String> {
        match &value {
            Value::Int(n) => return Ok(n.to_string()),
            Value::Double(d) => return Ok(d.to_string()),
            _ => {}
        }
        match string_bytes(&value) {
            Some(b) => match std::str::from_utf8(b) {
                Ok(s) => Ok(s.to_owned()),
                Err(e) => Err(invalid::<String>(
                    &value,
                    format!("not UTF-8 ({e}); read it as Vec<u8> or Bytes"),
                )),
            },
            None => Err(mismatch::<String>(&value)),
        }
    }
}

/// Parses the text of a string reply as a number.
fn parse_text<T: std::str::FromStr>(value: &Value) -> Option<Result<T>> {
    let b = string_bytes(value)?;
    Some(
        std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.parse::<T>().ok())
            .ok_or_else(|| {
                invalid::<T>(
                    value,
                    format!("{:?} is not a valid number", String::from_utf8_lossy(b)),
                )
            }),
    )
}

macro_rules! integer {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: Value) -> Result<$t> {
                match value {
                    Value::Int(n) => <$t>::try_from(n)
                        .map_err(|_| invalid::<$t>(&value, format!("{n} is out of range"))),
                    Value::Boolean(b) => Ok(<$t>::from(b)),
                    ref other => parse_text::<$t>(other).unwrap_or_else(|| Err(mismatch::<$t>(other))),
                }
            }
        }
    )*};
}
integer!(i16, i32, i64, i128, isize, u16, u32, u64, u128, usize);

impl FromValue for u8 {
    fn from_value(value: Value) -> Result<u8> {
        match value {
            Value::Int(n) => {
                u8::try_from(n).map_err(|_| invalid::<u8>(&value, format!("{n} is out of range")))
            }
            ref other => parse_text::<u8>(other).unwrap_or_else(|| Err(mismatch::<u8>(other))),
        }
    }

    fn vec_from_bytes(bytes: Bytes) -> Option<Vec<u8>> {
        Some(bytes.to_vec())
    }
}

impl FromValue for f64 {
    fn from_value(value: Value) -> Result<f64> {
        match value {
            Value::Double(d) => Ok(d),
            Value::Int(n) => Ok(n as f64),
            ref other => match string_bytes(other).map(|b| b.as_ref()) {
                Some(b"inf") | Some(b"+inf") => Ok(f64::INFINITY),
                Some(b"-inf") => Ok(f64::NEG_INFINITY),
                _ => parse_text::<f64>(other).unwrap_or_else(|| Err(mismatch::<f64>(other))),
            },
        }
    }
}

impl FromValue for f32 {
    fn from_value(value: Value) -> Result<f32> {
        f64::from_value(value).map(|d| d as f32)
    }
}

impl FromValue for bool {
    /// `true` for RESP3 `#t`, a non-zero integer, `"1"`, and `+OK`; `false`
    /// for `#f`, `0`, `"0"` and nil (so `SET ... NX` reads as "was it set?").
    fn from_value(value: Value) -> Result<bool> {
        match &value {
            Value::Boolean(b) => Ok(*b),
            Value::Int(n) => Ok(*n != 0),
            Value::Nil => Ok(false),
            Value::SimpleString(s) if s.as_ref() == b"OK" => Ok(true),
            Value::BulkString(s) | Value::SimpleString(s) => match s.as_ref() {
                b"1" => Ok(true),
                b"0" => Ok(false),
                _ => Err(invalid::<bool>(
                    &value,
                    format!("{:?} is not 0 or 1", String::from_utf8_lossy(s)),
                )),
            },
            other => Err(mismatch::<bool>(other)),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: Value) -> Result<Option<T>> {
        match value {
            Value::Nil => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// The elements of an aggregate reply; maps become `[key, value]` pairs.
fn elements<T>(value: Value) -> Result<Vec<Value>> {
    match value {
        Value::Array(items) | Value::Set(items) | Value::Push(items) => Ok(items),
        Value::Map(pairs) => Ok(pairs
            .into_iter()
            .map(|(k, v)| Value::Array(vec![k, v]))
            .collect()),
        Value::Nil => Ok(Vec::new()),
        other => Err(mismatch::<T>(&other)),
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(value: Value) -> Result<Vec<T>> {
        if let Some(bytes) = string_bytes(&value) {
            return T::vec_from_bytes(bytes.clone()).ok_or_else(|| mismatch::<Vec<T>>(&value));
        }
        T::vec_from_items(elements::<Vec<T>>(value)?)
    }
}

impl<T: FromValue + Eq + Hash, S: BuildHasher + Default> FromValue for HashSet<T, S> {
    fn from_value(value: Value) -> Result<HashSet<T, S>> {
        elements::<HashSet<T, S>>(value)?
            .into_iter()
            .map(T::from_value)
            .collect()
    }
}

/// `[k1, v1, k2, v2, …]` as `[(k1, v1), (k2, v2), …]` (a RESP2 map); an
/// odd last element is dropped, so callers check the length first.
pub(crate) fn pair_up(items: Vec<Value>) -> Vec<(Value, Value)> {
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    out
}

/// The key/value pairs of a map reply, or of a flat array `[k1, v1, k2, v2, ...]` (RESP2).
fn pairs<M>(value: Value) -> Result<Vec<(Value, Value)>> {
    match value {
        Value::Map(pairs) => Ok(pairs),
        Value::Array(items) if items.len() % 2 == 0 => Ok(pair_up(items)),
        Value::Nil => Ok(Vec::new()),
        other => Err(mismatch::<M>(&other)),
    }
}

impl<K: FromValue + Eq + Hash, V: FromValue, S: BuildHasher + Default> FromValue
    for HashMap<K, V, S>
{
    fn from_value(value: Value) -> Result<HashMap<K, V, S>> {
        pairs::<HashMap<K, V, S>>(value)?
            .into_iter()
            .map(|(k, v)| Ok((K::from_value(k)?, V::from_value(v)?)))
            .collect()
    }
}

impl<K: FromValue + Ord, V: FromValue> FromValue for BTreeMap<K, V> {
    fn from_value(value: Value) -> Result<BTreeMap<K, V>> {
        pairs::<BTreeMap<K, V>>(value)?
            .into_iter()
            .map(|(k, v)| Ok((K::from_value(k)?, V::from_value(v)?)))
            .collect()
    }
}

macro_rules! tuple {
    ($n:expr; $($t:ident),+) => {
        tuple!($n; $($t),+; );
    };
    ($n:expr; $($t:ident),+; $($extra:item)*) => {
        impl<$($t: FromValue),+> FromValue for ($($t,)+) {
            $($extra)*

            fn from_value(value: Value) -> Result<($($t,)+)> {
                let items = match value {
                    Value::Array(items) | Value::Set(items) | Value::Push(items) if items.len() == $n => items,
                    other => {
                        let detail = match &other {
                            Value::Array(items) => Some(format!("expected {} elements, got {}", $n, items.len())),
                            _ => None,
                        };
                        return Err(Error::type_conversion(other.type_name(), std::any::type_name::<($($t,)+)>(), detail));
                    }
                };
                let mut it = items.into_iter();
                Ok(($(
                    $t::from_value(it.next().unwrap_or(Value::Nil))?,
                )+))
            }
        }
    };
}
tuple!(1; A);
tuple!(2; A, B;
    fn vec_from_items(items: Vec<Value>) -> Result<Vec<(A, B)>> {
        let nested = items.iter().all(|v| matches!(v, Value::Array(_) | Value::Set(_)));
        if nested {
            return items.into_iter().map(<(A, B)>::from_value).collect();
        }
        if items.len() % 2 != 0 {
            return Err(Error::type_conversion(
                "array",
                std::any::type_name::<Vec<(A, B)>>(),
                Some(format!("{} elements cannot be read as pairs", items.len())),
            ));
        }
        let mut out = Vec::with_capacity(items.len() / 2);
        let mut it = items.into_iter();
        while let (Some(a), Some(b)) = (it.next(), it.next()) {
            out.push((A::from_value(a)?, B::from_value(b)?));
        }
        Ok(out)
    }
);
tuple!(3; A, B, C);
tuple!(4; A, B, C, D);
tuple!(5; A, B, C, D, E);
tuple!(6; A, B, C, D, E, F);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn bulk(s: &str) -> Value {
        Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn strings_from_string_like_replies() {
        assert_eq!(String::from_value(bulk("hi")).unwrap(), "hi");
        assert_eq!(
            String::from_value(Value::SimpleString("OK".into())).unwrap(),
            "OK"
        );
        assert_eq!(String::from_value(Value::Int(7)).unwrap(), "7");
    }

    #[test]
    fn invalid_utf8_is_a_conversion_error() {
        let err = String::from_value(Value::BulkString(Bytes::from_static(b"\xff"))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TypeConversion);
        assert!(err.to_string().contains("UTF-8"), "{err}");
    }

    #[test]
    fn nil_into_string_names_option() {
        let err = String::from_value(Value::Nil).unwrap_err();
        assert!(
            err.to_string().contains("nil") && err.to_string().contains("String"),
            "{err}"
        );
    }

    #[test]
    fn integers_from_ints_and_text() {
        assert_eq!(i64::from_value(Value::Int(-3)).unwrap(), -3);
        assert_eq!(u32::from_value(bulk("12")).unwrap(), 12);
        assert_eq!(
            u8::from_value(Value::Int(300)).unwrap_err().kind(),
            ErrorKind::TypeConversion
        );
        assert_eq!(
            i64::from_value(bulk("x")).unwrap_err().kind(),
            ErrorKind::TypeConversion
        );
    }

    #[test]
    fn vec_u8_reads_bulk_and_vec_t_reads_arrays() {
        assert_eq!(Vec::<u8>::from_value(bulk("ab")).unwrap(), b"ab");
        let arr = Value::Array(vec![bulk("1"), Value::Int(2)]);
        assert_eq!(Vec::<i64>::from_value(arr).unwrap(), vec![1, 2]);
        assert_eq!(
            Vec::<String>::from_value(bulk("x")).unwrap_err().kind(),
            ErrorKind::TypeConversion
        );
    }

    #[test]
    fn options_and_nested_nils() {
        let arr = Value::Array(vec![bulk("a"), Value::Nil]);
        assert_eq!(
            Vec::<Option<String>>::from_value(arr).unwrap(),
            vec![Some("a".to_owned()), None]
        );
    }

    #[test]
    fn maps_from_resp3_maps_and_flat_arrays() {
        let m: HashMap<String, i64> =
            FromValue::from_value(Value::Map(vec![(bulk("a"), Value::Int(1))])).unwrap();
        assert_eq!(m["a"], 1);
        let m: HashMap<String, String> =
            FromValue::from_value(Value::Array(vec![bulk("k"), bulk("v")])).unwrap();
        assert_eq!(m["k"], "v");
    }

    #[test]
    fn tuples_need_exact_length() {
        let t: (String, i64) =
            FromValue::from_value(Value::Array(vec![bulk("a"), Value::Int(1)])).unwrap();
        assert_eq!(t, ("a".to_owned(), 1));
        let err = <(String, i64)>::from_value(Value::Array(vec![bulk("a")])).unwrap_err();
        assert!(
            err.to_string().contains("expected 2 elements, got 1"),
            "{err}"
        );
    }

    #[test]
    fn bools_and_doubles() {
        assert!(bool::from_value(Value::SimpleString("OK".into())).unwrap());
        assert!(!bool::from_value(Value::Nil).unwrap());
        assert!(bool::from_value(Value::Int(1)).unwrap());
        assert_eq!(f64::from_value(bulk("1.5")).unwrap(), 1.5);
        assert_eq!(f64::from_value(bulk("-inf")).unwrap(), f64::NEG_INFINITY);
    }
}

#[cfg(test)]
mod pair_tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn pairs_read_flat_resp2_and_nested_resp3_alike() {
        let flat = Value::Array(vec![bulk("a"), bulk("1.5"), bulk("b"), bulk("2")]);
        let nested = Value::Array(vec![
            Value::Array(vec![bulk("a"), Value::Double(1.5)]),
            Value::Array(vec![bulk("b"), Value::Double(2.0)]),
        ]);
        let want = vec![("a".to_owned(), 1.5), ("b".to_owned(), 2.0)];
        assert_eq!(Vec::<(String, f64)>::from_value(flat).unwrap(), want);
        assert_eq!(Vec::<(String, f64)>::from_value(nested).unwrap(), want);
        let odd = Value::Array(vec![bulk("a"), bulk("1"), bulk("b")]);
        assert!(Vec::<(String, f64)>::from_value(odd).is_err());
        assert!(Vec::<(String, f64)>::from_value(Value::Array(vec![]))
            .unwrap()
            .is_empty());
    }
}
