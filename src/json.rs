//! JSON read into serde-derived types, with errors that say where: the field path
//! (`examples[3].input`, via `serde_path_to_error`) and the line and column.

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// Why a text did not deserialise.
#[derive(Debug)]
pub struct JsonError {
    /// Path of the value that does not fit (empty for the whole document); `None` when the text
    /// is not JSON at all.
    pub field: Option<String>,
    /// serde's message, without its position.
    pub message: String,
    pub line: usize,
    pub column: usize,
}

impl JsonError {
    fn new(e: serde_path_to_error::Error<serde_json::Error>) -> Self {
        // serde_path_to_error writes the top level as `.`.
        let path = e.path().to_string();
        let is_data = e.inner().classify() == serde_json::error::Category::Data;
        let field = is_data.then(|| if path == "." { String::new() } else { path });
        let (line, column) = (e.inner().line(), e.inner().column());
        let full = e.into_inner().to_string();
        let message = full.strip_suffix(&format!(" at line {line} column {column}")).unwrap_or(&full).to_string();
        Self { field, message, line, column }
    }

    /// What is wrong, without the position (for a text that is one line of a JSON Lines file).
    pub fn what(&self) -> String {
        match self.field.as_deref() {
            None => format!("not valid JSON: {}", self.message),
            Some("") => self.message.clone(),
            Some(field) => format!("field `{field}`: {}", self.message),
        }
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at line {}, column {}", self.what(), self.line, self.column)
    }
}

impl std::error::Error for JsonError {}

/// `text` as a `T`.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text)).map_err(JsonError::new)
}

/// The file at `path` as a `T`; errors start with the path.
pub fn read<T: DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
    parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// A JSON object's entries in the file's order (a map type would sort them or lose the order).
#[derive(Debug)]
pub struct Entries<V>(pub Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<V>, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}

/// A JSON object read into a sorted map that refuses a key written twice (serde's maps keep the
/// last value silently, so `{"50": 0.1, "50": 0.9}` would lose a number without a word).
#[derive(Debug, Clone, PartialEq)]
pub struct UniqueMap<K, V>(pub std::collections::BTreeMap<K, V>);

impl<'de, K: Deserialize<'de> + Ord + fmt::Display, V: Deserialize<'de>> Deserialize<'de> for UniqueMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UniqueVisitor<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de> + Ord + fmt::Display, V: Deserialize<'de>> Visitor<'de> for UniqueVisitor<K, V> {
            type Value = UniqueMap<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueMap<K, V>, A::Error> {
                let mut out = std::collections::BTreeMap::new();
                while let Some((key, value)) = map.next_entry::<K, V>()? {
                    if out.contains_key(&key) {
                        return Err(serde::de::Error::custom(format!("key `{key}` appears twice")));
                    }
                    out.insert(key, value);
                }
                Ok(UniqueMap(out))
            }
        }
        deserializer.deserialize_map(UniqueVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        items: Vec<Item>,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        rope_theta: f64,
    }

    #[test]
    fn a_wrong_type_names_the_field_path_and_position() {
        let e = parse::<Doc>("{\"items\": [{\"rope_theta\": 1},\n {\"rope_theta\": \"x\"}]}").unwrap_err();
        assert_eq!(e.to_string(), "field `items[1].rope_theta`: invalid type: string \"x\", expected f64 at line 2, column 19");
        assert_eq!(e.what(), "field `items[1].rope_theta`: invalid type: string \"x\", expected f64");
    }

    #[test]
    fn a_missing_field_names_its_object_and_a_syntax_error_says_so() {
        let e = parse::<Doc>("{\"items\": [{}]}").unwrap_err();
        assert_eq!(e.what(), "field `items[0]`: missing field `rope_theta`");
        let e = parse::<Doc>("3").unwrap_err();
        assert_eq!((e.field.as_deref(), e.what().as_str()), (Some(""), "invalid type: integer `3`, expected struct Doc"));
        let e = parse::<Doc>("{\"items\": [,]}").unwrap_err();
        assert!(e.field.is_none() && e.to_string().starts_with("not valid JSON: ") && e.line == 1, "{e}");
    }

    #[test]
    fn a_key_written_twice_is_an_error_naming_it() {
        let e = parse::<UniqueMap<String, UniqueMap<String, f64>>>(r#"{"50": {"acc": 0.1, "acc": 0.9}}"#).unwrap_err();
        assert!(e.what().starts_with("field `50`: key `acc` appears twice"), "{e}");
        let UniqueMap(m) = parse::<UniqueMap<String, f64>>(r#"{"b": 1, "a": 2}"#).unwrap();
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn entries_keep_the_file_order() {
        let Entries(e) = parse::<Entries<u8>>(r#"{"b": 1, "a": 2, "c": 3}"#).unwrap();
        assert_eq!(e, [("b".to_string(), 1), ("a".to_string(), 2), ("c".to_string(), 3)]);
        let e = parse::<Entries<u8>>(r#"{"b": 1, "a": "x"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("a"));
    }
}
