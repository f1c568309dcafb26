package dev.eventproc.security;

import java.util.Set;
import java.util.TreeSet;

/**
 * The built-in Spark SQL functions a config may call in restricted mode: deterministic ones that compute
 * on their arguments only. Left out on purpose: anything that reaches Java or the outside
 * ({@code reflect}, {@code java_method}, {@code input_file_name}, {@code current_user}, table-valued and
 * generator functions), anything nondeterministic ({@code rand}, {@code uuid}, {@code current_timestamp},
 * {@code first}, {@code collect_list}), anything that fails on purpose ({@code raise_error},
 * {@code assert_true}), lambdas, and every function that is not built in (UDFs). An allow-list: a
 * function missing here is refused, never run. README lists the same names.
 */
final class SqlFunctions {
  /** Lower-case names, as Spark resolves them (case-insensitively). */
  static final Set<String> ALLOWED = new TreeSet<>(Set.of(
      // aggregates
      "count", "sum", "avg", "mean", "min", "max", "count_if", "bool_and", "bool_or", "every", "any", "some",
      "stddev", "stddev_pop", "stddev_samp", "std", "variance", "var_pop", "var_samp", "max_by", "min_by",
      "approx_count_distinct", "corr", "covar_pop", "covar_samp", "kurtosis", "skewness", "median", "percentile",
      // ranking and offsets over a window
      "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
      // arithmetic
      "abs", "ceil", "ceiling", "floor", "round", "bround", "sign", "signum", "sqrt", "cbrt", "exp", "expm1", "ln", "log",
      "log10", "log2", "log1p", "pow", "power", "mod", "pmod", "greatest", "least", "negative", "positive", "try_add",
      "try_subtract", "try_multiply", "try_divide", "width_bucket", "isnan", "nanvl", "rint", "degrees", "radians",
      "hex", "unhex", "bin", "conv", "shiftleft", "shiftright",
      // conditions and nulls
      "coalesce", "nvl", "nvl2", "nullif", "ifnull", "if", "isnull", "isnotnull",
      // conversions
      "int", "bigint", "smallint", "tinyint", "double", "float", "decimal", "string", "boolean", "date", "timestamp",
      "binary", "to_number", "try_to_number", "to_char",
      // text
      "lower", "upper", "lcase", "ucase", "trim", "ltrim", "rtrim", "btrim", "concat", "concat_ws", "substring", "substr",
      "left", "right", "length", "char_length", "character_length", "octet_length", "bit_length", "replace",
      "regexp_replace", "regexp_extract", "regexp_extract_all", "regexp_like", "rlike", "like", "ilike", "split",
      "split_part", "lpad", "rpad", "initcap", "reverse", "instr", "locate", "position", "translate", "contains",
      "startswith", "endswith", "repeat", "format_string", "printf", "format_number", "ascii", "chr", "char", "base64",
      "unbase64", "encode", "decode", "md5", "sha", "sha1", "sha2", "crc32", "hash", "xxhash64", "soundex",
      "levenshtein", "elt", "find_in_set", "url_decode", "url_encode", "parse_url",
      // JSON
      "to_json", "from_json", "get_json_object", "json_array_length", "json_object_keys",
      // dates and times (of their arguments, never of the clock)
      "to_date", "to_timestamp", "try_to_timestamp", "to_unix_timestamp", "from_unixtime", "date_format", "date_trunc",
      "trunc", "year", "quarter", "month", "day", "dayofmonth", "dayofweek", "dayofyear", "weekday", "weekofyear",
      "hour", "minute", "second", "date_add", "date_sub", "dateadd", "datediff", "add_months", "months_between",
      "last_day", "next_day", "make_date", "make_timestamp", "timestamp_seconds", "timestamp_millis",
      "timestamp_micros", "unix_seconds", "unix_millis", "unix_micros", "unix_date", "date_from_unix_date",
      "from_utc_timestamp", "to_utc_timestamp", "extract", "date_part", "datepart", "window",
      // arrays, maps and structs
      "array", "struct", "named_struct", "map", "array_contains", "size", "cardinality", "element_at", "map_keys",
      "map_values", "array_distinct", "sort_array", "array_join", "array_max", "array_min", "array_position",
      "array_remove", "arrays_overlap", "slice", "flatten", "get", "map_from_arrays", "map_from_entries", "str_to_map"));

  private SqlFunctions() {}
}
