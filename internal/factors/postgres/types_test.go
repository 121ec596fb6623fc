package postgres

import (
	"context"
	"math/big"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/outbound"
)

func TestNumericString(t *testing.T) {
	for _, tc := range []struct {
		n    pgtype.Numeric
		want string
	}{
		{pgtype.Numeric{Int: big.NewInt(150), Exp: -2, Valid: true}, "1.50"},
		{pgtype.Numeric{Int: big.NewInt(-5), Exp: -3, Valid: true}, "-0.005"},
		{pgtype.Numeric{Int: big.NewInt(12), Exp: 3, Valid: true}, "12000"},
		{pgtype.Numeric{Int: big.NewInt(0), Exp: 2, Valid: true}, "0"},
		{pgtype.Numeric{Int: big.NewInt(0), Exp: -2, Valid: true}, "0.00"},
		{pgtype.Numeric{NaN: true, Valid: true}, "NaN"},
		{pgtype.Numeric{InfinityModifier: pgtype.NegativeInfinity, Valid: true}, "-Infinity"},
	} {
		if got, err := numericString(tc.n); got != tc.want || err != nil {
			t.Errorf("%+v = %q, %v; want %q", tc.n, got, err, tc.want)
		}
	}
}

// TestMalformedParams feeds parameter shapes the WIT would never lift:
// each must be an error, never a panic.
func TestMalformedParams(t *testing.T) {
	for _, p := range []any{
		nil, "x", cabi.Variant{Case: 99},
		cabi.Variant{Case: cInt32, Value: "x"},
		cabi.Variant{Case: cDate, Value: []any{int32(1)}},
		cabi.Variant{Case: cTime, Value: nil},
		cabi.Variant{Case: cDatetime, Value: []any{1, 2, 3, 4, 5, 6, 7}},
		cabi.Variant{Case: cTimestamp, Value: int32(1)},
		cabi.Variant{Case: cUUID, Value: 5},
		cabi.Variant{Case: cDecimal, Value: nil},
		cabi.Variant{Case: cRangeInt32, Value: []any{cabi.Some(5), cabi.None}},
		cabi.Variant{Case: cRangeInt64, Value: []any{cabi.Some([]any{int32(1), uint32(0)}), cabi.None}},
		cabi.Variant{Case: cRangeDecimal, Value: []any{cabi.Some([]any{"1", uint32(7)}), cabi.None}},
		cabi.Variant{Case: cRangeInt32, Value: []any{"x", "y"}},
		cabi.Variant{Case: cArrayInt32, Value: []any{"x"}},
		cabi.Variant{Case: cArrayInt64, Value: []any{cabi.Some("x")}},
		cabi.Variant{Case: cArrayStr, Value: "x"},
		cabi.Variant{Case: cArrayDecimal, Value: []any{cabi.Some(1)}},
		cabi.Variant{Case: cInterval, Value: []any{1, 2, 3}},
	} {
		if _, err := pgParam(p); err == nil {
			t.Errorf("pgParam(%#v) accepted", p)
		}
	}
	if _, err := v3Param(cabi.Variant{Case: 14}); err == nil {
		t.Error("v3 case 14 accepted")
	}
}

func TestRedact(t *testing.T) {
	for _, addr := range []string{
		"postgres://u:s3cret@h/db",
		"host=h password=s3cret user=u",
		"host=h password = 's3cret' user=u",
	} {
		if got := redact("failed: s3cret here", addr); got != "failed: xxxxx here" {
			t.Errorf("redact for %q = %q", addr, got)
		}
		if !hasPassword(addr) {
			t.Errorf("hasPassword(%q) = false", addr)
		}
	}
	if hasPassword("postgres://u@h/db") || hasPassword("host=h user=u") {
		t.Error("hasPassword without a password")
	}
}

// TestHostDefaultsNotUsed checks that the host's PGPASSWORD (and so any
// host-side credential default) never goes to a server the guest chose.
func TestHostDefaultsNotUsed(t *testing.T) {
	t.Setenv("PGPASSWORD", "host-secret")
	p, err := outbound.NewPolicy([]string{"postgres://db.example.com:5432"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, e := parseAddress("postgres://guest@db.example.com:5432/db", p)
	if e != nil {
		t.Fatal(e)
	}
	if cfg.Password != "" {
		t.Errorf("password %q taken from the environment", cfg.Password)
	}
	cfg, e = parseAddress("postgres://guest:own@db.example.com/db", p)
	if e != nil || cfg.Password != "own" {
		t.Errorf("guest password: %v %v", cfg, e)
	}
	if addrs, _ := cfg.LookupFunc(context.Background(), "db.example.com"); len(addrs) != 1 || addrs[0] != "db.example.com" {
		t.Errorf("lookup resolved the name itself: %v", addrs)
	}
}
