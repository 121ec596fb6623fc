module example.com/cron-go

go 1.26

require github.com/wisp-dev/wisp/sdk/go v0.0.0

replace github.com/wisp-dev/wisp/sdk/go => ../../sdk/go
