module github.com/allsource-go/allsource/internal/ssebench

go 1.26.0

require (
	github.com/allsource-go/allsource v0.0.0
	github.com/openai/openai-go v1.12.0
)

require (
	github.com/go-faster/errors v0.7.1 // indirect
	github.com/go-faster/jx v1.2.0 // indirect
	github.com/segmentio/asm v1.2.1 // indirect
	github.com/sony/gobreaker/v2 v2.4.0 // indirect
	github.com/tidwall/gjson v1.14.4 // indirect
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.1 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

replace github.com/allsource-go/allsource => ../..
