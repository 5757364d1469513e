//! Solvers written independently of the generators: each reads only an example's text (never the
//! generator's internal state) and works the answer out its own way, so a bug in a generator's
//! bookkeeping shows up as a disagreement. Errors say what in the text could not be parsed.

pub mod arithmetic;
pub mod boolean;
pub mod counting;
pub mod lookup;
pub mod parity;
pub mod shuffle;

/// The answer to the input of a generated example of task `task`.
pub fn solve(task: &str, input: &str) -> Result<String, String> {
    match task {
        "boolean_expressions" => boolean::solve(input),
        "web_of_lies" => parity::solve(input),
        "object_counting_gen" => counting::solve(input),
        "tracking_shuffled_objects_gen" => shuffle::solve(input),
        "multistep_arithmetic" => arithmetic::solve(input),
        "synthetic_random_kv" => lookup::solve_kv(input),
        "synthetic_alphabet_mapping" => lookup::solve_mapping(input),
        other => Err(format!("no solver for task `{other}`")),
    }
}
