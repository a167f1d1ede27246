//! A record batch's columns as the Parquet reader reads them: text (strings, or a dictionary of
//! them) and numbers (or text to parse), straight from the Arrow arrays.

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow_schema::DataType;

use super::number;
use crate::instance::{InputError, Reason};

/// A text column of a batch: as it is when strings (or a dictionary of them, Int32 keys), cast
/// to strings otherwise (ids may be stored as integers).
pub(super) fn text(batch: &RecordBatch, name: &'static str) -> Result<ArrayRef, InputError> {
    let col = batch
        .column_by_name(name)
        .ok_or(InputError::MissingColumn(name))?;
    match col.data_type() {
        DataType::Utf8 => Ok(col.clone()),
        DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8 => {
            Ok(col.clone())
        }
        t => arrow_cast::cast(col, &DataType::Utf8)
            .map_err(|e| InputError::File(format!("column {name}: {e} ({t})"))),
    }
}

/// A number column of a batch: as numbers (cast to `f64`), or as text to parse when the file
/// stores text.
pub(super) fn number_column(
    batch: &RecordBatch,
    name: &'static str,
) -> Result<ArrayRef, InputError> {
    let col = batch
        .column_by_name(name)
        .ok_or(InputError::MissingColumn(name))?;
    let to = match col.data_type() {
        DataType::Float64 | DataType::Utf8 => return Ok(col.clone()),
        DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(_, _) => DataType::Utf8,
        _ => DataType::Float64,
    };
    arrow_cast::cast(col, &to)
        .map_err(|e| InputError::File(format!("column {name}: {e} ({})", col.data_type())))
}

/// Text trimmed as `str::trim` does, without looking further when both ends are plain ASCII.
#[inline]
fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) if f.is_ascii_graphic() && l.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

pub(super) enum Text<'a> {
    /// Strings, and whether any is null.
    Plain(&'a StringArray, bool),
    /// Keys into a dictionary (whether any key is null), and the local option of each
    /// dictionary value once seen.
    Dict {
        keys: &'a [i32],
        nulls: Option<&'a arrow_array::PrimitiveArray<Int32Type>>,
        values: &'a StringArray,
        /// Whether any dictionary value is null.
        value_nulls: bool,
        local: Vec<Option<u8>>,
    },
}

impl<'a> Text<'a> {
    pub(super) fn of(a: &'a ArrayRef) -> Self {
        match a.data_type() {
            DataType::Dictionary(_, _) => {
                let d = a.as_dictionary::<Int32Type>();
                let values = d.values().as_string::<i32>();
                Text::Dict {
                    keys: d.keys().values(),
                    nulls: (d.keys().null_count() > 0).then(|| d.keys()),
                    values,
                    value_nulls: values.null_count() > 0,
                    local: vec![None; values.len()],
                }
            }
            _ => {
                let s = a.as_string::<i32>();
                Text::Plain(s, s.null_count() > 0)
            }
        }
    }

    /// Row `i`'s text (trimmed), and its dictionary key if any.
    #[inline]
    pub(super) fn get(
        &self,
        name: &'static str,
        i: usize,
    ) -> Result<(&'a str, Option<usize>), Reason> {
        match self {
            Text::Plain(a, nulls) => {
                if *nulls && a.is_null(i) {
                    return Err(Reason::Empty(name));
                }
                Ok((trim(a.value(i)), None))
            }
            Text::Dict {
                keys,
                nulls,
                values,
                value_nulls,
                ..
            } => {
                if nulls.is_some_and(|k| k.is_null(i)) {
                    return Err(Reason::Empty(name));
                }
                let k = keys[i] as usize;
                if *value_nulls && values.is_null(k) {
                    return Err(Reason::Empty(name));
                }
                Ok((trim(values.value(k)), Some(k)))
            }
        }
    }

    #[inline]
    pub(super) fn known(&self, key: usize) -> Option<u8> {
        match self {
            Text::Dict { local, .. } => local[key],
            Text::Plain(..) => None,
        }
    }

    pub(super) fn learn(&mut self, key: usize, o: u8) {
        if let Text::Dict { local, .. } = self {
            local[key] = Some(o);
        }
    }
}

pub(super) enum Number<'a> {
    Float(&'a Float64Array),
    Text(&'a StringArray),
}

impl<'a> Number<'a> {
    pub(super) fn of(a: &'a ArrayRef) -> Self {
        match a.data_type() {
            DataType::Float64 => Number::Float(a.as_primitive()),
            _ => Number::Text(a.as_string::<i32>()),
        }
    }

    #[inline]
    pub(super) fn get(&self, name: &'static str, i: usize) -> Result<f64, Reason> {
        match self {
            Number::Float(a) if a.is_null(i) => Err(Reason::Empty(name)),
            Number::Float(a) => Ok(a.value(i)),
            Number::Text(a) if a.is_null(i) => Err(Reason::Empty(name)),
            Number::Text(a) => number(name, a.value(i)),
        }
    }
}
