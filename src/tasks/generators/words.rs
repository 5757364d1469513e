//! Word lists shared by the generators (our own choice of words).

/// First names, one word each, none a substring-trap for the solvers ("lies", "says", "has").
pub const NAMES: &[&str] = &[
    "Ada", "Bruno", "Chiara", "Dmitri", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kemal", "Lena", "Marek",
    "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tomoko", "Ugo", "Vera", "Wanda", "Xavier", "Yusuf", "Zofia",
];

/// Colours for the tracked objects.
pub const COLOURS: &[&str] = &["red", "blue", "green", "yellow", "black", "white", "orange", "purple", "grey", "pink"];

/// Kinds of tracked objects (one kind per example).
pub const THINGS: &[&str] = &["ball", "hat", "scarf", "kite", "mug", "umbrella", "notebook"];
