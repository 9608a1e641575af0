package runtime

import (
	"encoding/json"
	"fmt"
)

// Binary is the content of a member whose schema is a string of format
// binary: raw octets, which in a JSON document can only be the text of the
// string itself. It encodes as that text, not as base64 as a []byte would
// (format byte is base64, and stays a []byte). In a multipart body a
// Binary member is a file part.
type Binary []byte

// MarshalJSON encodes b as a JSON string holding its bytes as text (a byte
// that is not valid UTF-8 is written as U+FFFD, as encoding/json does for
// strings).
func (b Binary) MarshalJSON() ([]byte, error) {
	return json.Marshal(string(b))
}

// UnmarshalJSON decodes a JSON string into its bytes; a null leaves b
// unchanged.
func (b *Binary) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("binary content: %w", err)
	}
	*b = Binary(s)
	return nil
}
