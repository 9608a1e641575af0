package runtime

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"testing"
	"testing/iotest"
)

// TestReadBodySizes reads bodies of known and unknown length, whole and in
// small reads, below, at and above the limit, into fresh and used buffers.
func TestReadBodySizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 511, 512, 513, 4096, 40_000, 100_000, 1 << 20, 3<<20 + 17} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.IntN(256))
		}
		for _, limit := range []int64{int64(size), int64(size) + 1, int64(size) - 1, 1000, 10 << 20} {
			if limit < 0 {
				continue
			}
			for _, known := range []bool{true, false} {
				for _, small := range []bool{false, true} {
					var r io.Reader = bytes.NewReader(data)
					if small && size <= 100_000 {
						r = iotest.HalfReader(r)
					}
					resp := &http.Response{Body: io.NopCloser(r), ContentLength: -1}
					if known {
						resp.ContentLength = int64(size)
					}
					var buf bytes.Buffer
					buf.WriteString("x")
					buf.Reset() // a used buffer, as the pool hands out
					tooLarge, err := readBody(&buf, resp, limit)
					if err != nil {
						t.Fatalf("size %d limit %d: %v", size, limit, err)
					}
					want := data
					if int64(size) > limit {
						want = data[:limit]
					}
					if tooLarge != (int64(size) > limit) || !bytes.Equal(buf.Bytes(), want) {
						t.Fatalf("size %d limit %d known %v small %v: tooLarge %v, %d bytes, equal %v",
							size, limit, known, small, tooLarge, buf.Len(), bytes.Equal(buf.Bytes(), want))
					}
				}
			}
		}
	}
	// A read error after some data is returned with what was read.
	boom := errors.New("boom")
	resp := &http.Response{Body: io.NopCloser(io.MultiReader(bytes.NewReader(make([]byte, 200_000)), iotest.ErrReader(boom))), ContentLength: -1}
	var buf bytes.Buffer
	if _, err := readBody(&buf, resp, 1<<20); !errors.Is(err, boom) || buf.Len() != 200_000 {
		t.Fatalf("err %v, %d bytes", err, buf.Len())
	}
}
