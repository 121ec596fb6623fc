package mysql

import (
	"math"
	"testing"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/internal/rdbms"
)

func TestDBValue(t *testing.T) {
	for _, tc := range []struct {
		typ  uint32
		in   any
		want cabi.Variant
	}{
		{rdbms.Int8, int64(-3), cabi.Variant{Case: rdbms.Int8, Value: int8(-3)}},
		{rdbms.Uint64, uint64(math.MaxUint64), cabi.Variant{Case: rdbms.Uint64, Value: uint64(math.MaxUint64)}},
		{rdbms.Uint64, []byte("18446744073709551615"), cabi.Variant{Case: rdbms.Uint64, Value: uint64(math.MaxUint64)}},
		{rdbms.Int32, []byte("-7"), cabi.Variant{Case: rdbms.Int32, Value: int32(-7)}},
		{rdbms.Floating32, float64(0.5), cabi.Variant{Case: rdbms.Floating32, Value: float32(0.5)}},
		{rdbms.Floating64, float32(0.5), cabi.Variant{Case: rdbms.Floating64, Value: 0.5}},
		{rdbms.TypeOther, []byte{0xff}, cabi.Variant{Case: rdbms.Binary, Value: []byte{0xff}}},
		{rdbms.TypeOther, int64(2024), cabi.Variant{Case: rdbms.Str, Value: "2024"}},
		{rdbms.Str, nil, cabi.Variant{Case: rdbms.DbNull}},
	} {
		got, err := dbValue(tc.typ, tc.in)
		if err != nil || !equal(got, tc.want) {
			t.Errorf("dbValue(%d, %#v) = %#v, %v", tc.typ, tc.in, got, err)
		}
	}
	for _, tc := range []struct {
		typ uint32
		in  any
	}{
		{rdbms.Int8, int64(300)},
		{rdbms.Uint8, int64(-1)},
		{rdbms.Int64, uint64(math.MaxUint64)},
		{rdbms.Str, []byte{0xff, 0xfe}},
		{rdbms.Str, int64(1)},
		{rdbms.Int16, []byte("x")},
		{rdbms.Binary, 1.5},
	} {
		if got, err := dbValue(tc.typ, tc.in); err == nil {
			t.Errorf("dbValue(%d, %#v) = %#v, want an error", tc.typ, tc.in, got)
		}
	}
}

func equal(a, b cabi.Variant) bool {
	if ab, ok := a.Value.([]byte); ok {
		bb, ok := b.Value.([]byte)
		return ok && a.Case == b.Case && string(ab) == string(bb)
	}
	return a == b
}

func TestParseAddress(t *testing.T) {
	p := factortest.Policy(t, "mysql://db.example.com:3307")
	cfg, e := parseAddress("mysql://u:p%40ss@db.example.com:3307/my%20db?ssl-mode=REQUIRED&pool_max=3", p)
	if e != nil {
		t.Fatal(e)
	}
	if cfg.User != "u" || cfg.Passwd != "p@ss" || cfg.Addr != "db.example.com:3307" || cfg.DBName != "my db" || cfg.TLS == nil || cfg.TLS.ServerName != "db.example.com" || cfg.AllowAllFiles {
		t.Errorf("cfg = %+v", cfg)
	}
	cfg, e = parseAddress("mysql://u@db.example.com:3307/x?SslMode=disabled", p)
	if e != nil || cfg.TLS != nil {
		t.Errorf("disabled: %+v %v", cfg, e)
	}
	if _, e := parseAddress("mysql://u:pw@db.example.com/x", p); e == nil {
		t.Error("default port 3306 allowed by a 3307 entry")
	}
}
