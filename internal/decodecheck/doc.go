// Package decodecheck holds the differential tests of the generated
// single-pass JSON decoders: random and real inputs are decoded by a
// generated type and by encoding/json into method-less mirrors of it, and
// the two must agree on whether the input is valid and on every decoded
// value.
package decodecheck
