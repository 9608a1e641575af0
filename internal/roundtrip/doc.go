// Package roundtrip checks generated code against its schemas: for every
// named type generated from spec/ (the packages in gen/), from every golden
// spec of the generator (generator/testdata/golden, one small document per
// feature) and from every document of the shared corpus (component schemas,
// and the inline item schemas of streamed responses: itemSchema,
// x-item-schema, x-sse-events), it synthesizes instances valid against the
// schema, decodes each with the generated type, encodes it again and
// compares the output with the input as JSON values; then it decodes the
// output and encodes it once more, which must change nothing. It also feeds
// instances that must be refused with an error, never a panic.
//
// # Valid instances
//
// Synthesize walks a kin-openapi schema with a seeded random source. It
// cycles through three modes (required members only, all members, members
// by coin toss), writes null where the schema allows it (nullable, a type
// list with "null", a oneOf/anyOf branch that is null), unknown members
// where additionalProperties allows them (names with spaces, quotes,
// escapes, non-ASCII, NUL), strings of ASCII, accents, CJK, emoji beyond
// the BMP, quotes, backslashes and control characters, canonical formats
// (RFC 3339 date-times as Go writes them, dates, UUIDs, padded standard
// base64, e-mail addresses, URIs), strings matching a pattern, enum and
// const values, integers from zero to the int64 limits within the schema's
// bounds, numbers with as many significant digits as the Go type holds
// (6 for format float, 15 otherwise), empty and non-empty arrays and maps,
// a branch of each oneOf/anyOf with its discriminator tag set, allOf parts
// merged, nesting up to a depth and size limit, and members in shuffled
// order. Every candidate is checked with Schema.VisitJSON; a candidate the
// validator refuses is discarded and counted, not a failure.
//
// Some instances are written in a variant spelling, named in the failure's
// effect: "escaped" (characters of strings as \u escapes and surrogate
// pairs, whitespace between tokens), "respelled" (numbers in another
// spelling of the same value: 1.0, 1E+0, 1e2, 2.50) and "duplicate" (one
// member written twice, first with another valid value; the last counts,
// as in encoding/json).
//
// # Comparison
//
// Objects are compared as sets of members, arrays element by element,
// strings and booleans exactly. Numbers are compared by their exact
// decimal values by default (NumbersValue: as rationals, never through
// float64), which is what the generated package docs promise: number
// spellings are normalised, values never change. NumbersExact compares
// their text instead: 2.50 coming back as 2.5 is then a number-spelling
// failure, apart from number-changed.
//
// # Invalid instances
//
// Valid instances cut short, with syntax errors put in, with one member
// set to a value of a JSON kind its schema allows nowhere, and values of a
// kind the whole schema allows nowhere (true, 0, -1.5, a string, an array,
// an object) must be refused with an error. A top-level null is not among
// them: by the convention of encoding/json a null leaves a Go value
// unchanged, and at the top level nothing is lost by it.
//
// Every instance is decoded twice: with json.Unmarshal, which users call,
// and with runtime.UnmarshalJSON, the path generated clients take for
// response bodies, which skips the syntax check json.Unmarshal makes first.
// A generated name that is only an alias of a standard library type (a
// date-time schema is time.Time) is decoded with runtime.UnmarshalJSON both
// times: encoding/json's decoding of time.Time is not generated code.
// The two must agree (client-differs, client-accepted otherwise).
//
// # Running
//
// Check writes a driver program into the Go module the generated packages
// live in (the corpus scratch module of package corpus, which also resolves
// gen/), builds it once and runs it once per document; a driver that dies
// (a stack overflow, say) is restarted after the instance it died on. The
// report has a line per document, "roundtrip: <doc>: T types, V valid, I
// invalid, F failures", the failures grouped by class (effect, the schema
// construct where it showed, and for refusals the shape of the error), and
// the summary line "roundtrip: N documents, T types, V valid instances, F
// failures". TestRoundTrip holds the failures to known_failures.txt, a list
// that only shrinks; the command in cmd/roundtrip prints the full report.
package roundtrip
