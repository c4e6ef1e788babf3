//! Checks of JSON request bodies that name the offending field in the 400 they return, the way
//! the API's validation errors do; unknown fields are always ignored.

use serde_json::{Map, Number, Value};

use super::error::ApiError;

/// The body as a JSON object.
pub fn object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("Request body must be a JSON object")),
        Err(err) => Err(ApiError::bad_request(format!(
            "Request body is not valid JSON: {err}"
        ))),
    }
}

/// A field that must be present; `min_len` 1 also refuses the empty string.
pub fn required_string(
    map: &Map<String, Value>,
    field: &str,
    min_len: usize,
) -> Result<String, ApiError> {
    optional_string(map, field, min_len)?.ok_or_else(|| string_error(field, min_len, true))
}

/// A field that may be absent (or null), and is a string of at least `min_len` characters if not.
pub fn optional_string(
    map: &Map<String, Value>,
    field: &str,
    min_len: usize,
) -> Result<Option<String>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.chars().count() >= min_len => Ok(Some(text.clone())),
        Some(_) => Err(string_error(field, min_len, false)),
    }
}

fn string_error(field: &str, min_len: usize, required: bool) -> ApiError {
    let required = if required { " is required and" } else { "" };
    let what = if min_len > 0 {
        "a non-empty string"
    } else {
        "a string"
    };
    ApiError::bad_request(format!("Field {field}{required} must be {what}"))
}

/// A number field that must be present.
pub fn required_number(map: &Map<String, Value>, field: &str) -> Result<Number, ApiError> {
    match map.get(field) {
        Some(Value::Number(number)) => Ok(number.clone()),
        _ => Err(ApiError::bad_request(format!(
            "Field {field} is required and must be a number"
        ))),
    }
}

/// A number field that must be present and greater than 0.
pub fn required_positive_number(map: &Map<String, Value>, field: &str) -> Result<Number, ApiError> {
    match map.get(field) {
        Some(Value::Number(number)) if number.as_f64().is_some_and(|n| n > 0.0) => {
            Ok(number.clone())
        }
        _ => Err(ApiError::bad_request(format!(
            "Field {field} is required and must be a number greater than 0"
        ))),
    }
}

/// A field that may be absent (or null), and is an object if not.
pub fn optional_object<'a>(
    map: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(object)) => Ok(Some(object)),
        Some(_) => Err(ApiError::bad_request(format!(
            "Field {field} must be an object"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn bodies_must_be_json_objects() {
        assert!(object(br#"{"a":1}"#).is_ok());
        assert!(object(b"[1]").unwrap_err().detail.contains("JSON object"));
        assert!(object(b"{").unwrap_err().detail.contains("not valid JSON"));
        assert!(object(b"").is_err());
    }

    #[test]
    fn field_errors_name_the_field() {
        let body = map(json!({"name": "", "prompt": 3, "n": 1.5, "cfg": []}));
        assert_eq!(
            required_string(&body, "missing", 1).unwrap_err().detail,
            "Field missing is required and must be a non-empty string"
        );
        assert_eq!(
            required_string(&body, "name", 1).unwrap_err().detail,
            "Field name must be a non-empty string"
        );
        assert_eq!(required_string(&body, "name", 0).unwrap(), "");
        assert_eq!(
            optional_string(&body, "prompt", 0).unwrap_err().detail,
            "Field prompt must be a string"
        );
        assert_eq!(optional_string(&body, "absent", 1).unwrap(), None);
        assert_eq!(
            required_number(&body, "n").unwrap(),
            Number::from_f64(1.5).unwrap()
        );
        assert!(
            required_number(&body, "name")
                .unwrap_err()
                .detail
                .contains("name")
        );
        let positive = map(json!({"a": 7, "b": 0.5, "zero": 0, "neg": -1, "negf": -0.5, "s": "7"}));
        assert_eq!(
            required_positive_number(&positive, "a").unwrap(),
            Number::from(7)
        );
        assert_eq!(
            required_positive_number(&positive, "b").unwrap(),
            Number::from_f64(0.5).unwrap()
        );
        for field in ["zero", "neg", "negf", "s", "missing"] {
            assert_eq!(
                required_positive_number(&positive, field)
                    .unwrap_err()
                    .detail,
                format!("Field {field} is required and must be a number greater than 0")
            );
        }
        assert_eq!(
            optional_object(&body, "cfg").unwrap_err().detail,
            "Field cfg must be an object"
        );
        assert_eq!(optional_object(&body, "absent").unwrap(), None);
    }
}
