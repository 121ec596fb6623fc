module github.com/wisp-dev/wisp/sdk/go

go 1.26
