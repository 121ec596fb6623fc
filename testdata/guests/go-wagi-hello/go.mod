module example.com/gowagihello

go 1.26
