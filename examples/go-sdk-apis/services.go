package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/wisp-dev/wisp/sdk/go/mqtt"
	"github.com/wisp-dev/wisp/sdk/go/mysql"
	"github.com/wisp-dev/wisp/sdk/go/postgres"
	"github.com/wisp-dev/wisp/sdk/go/redis"
	"github.com/wisp-dev/wisp/sdk/go/sqlite"
	"github.com/wisp-dev/wisp/sdk/go/variables"
)

// registerServices adds one route per database or broker. Each runs a
// small round trip and answers JSON; the servers' addresses are the
// application variables redis_address, postgres_address, mysql_address
// and mqtt_address.
func registerServices(mux *http.ServeMux) {
	mux.HandleFunc("GET /sqlite/{table}", sqliteRoundTrip)
	mux.HandleFunc("GET /redis/{key}", redisRoundTrip)
	mux.HandleFunc("POST /redis/publish/{channel}", redisPublish)
	mux.HandleFunc("GET /postgres/{table}", postgresRoundTrip)
	mux.HandleFunc("GET /mysql/{table}", mysqlRoundTrip)
	mux.HandleFunc("POST /mqtt/{topic...}", mqttPublish)
}

// reply writes v as JSON, or err as a 500.
func reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		fail(w, err, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func address(name string) (string, error) { return variables.Get(name) }

func sqliteRoundTrip(w http.ResponseWriter, r *http.Request) {
	rows, err := func() ([][]any, error) {
		db, err := sqlite.OpenDefault()
		if err != nil {
			return nil, err
		}
		defer db.Close()
		t := r.PathValue("table")
		if _, err := db.Execute("CREATE TABLE IF NOT EXISTS " + t + " (i INTEGER, f REAL, s TEXT, b BLOB, n)"); err != nil {
			return nil, err
		}
		if _, err := db.Execute("INSERT INTO "+t+" VALUES (?, ?, ?, ?, ?)", int64(-42), 2.5, "héllo", []byte{0, 1, 2}, nil); err != nil {
			return nil, err
		}
		res, err := db.Execute("SELECT i, f, s, b, n FROM "+t+" WHERE i = ?", -42)
		if err != nil {
			return nil, err
		}
		return res.Rows, nil
	}()
	reply(w, rows, err)
}

func redisRoundTrip(w http.ResponseWriter, r *http.Request) {
	out, err := func() (map[string]any, error) {
		addr, err := address("redis_address")
		if err != nil {
			return nil, err
		}
		c, err := redis.Open(addr)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		k := r.PathValue("key")
		out := map[string]any{}
		if err := c.Set(k, []byte("value")); err != nil {
			return nil, err
		}
		v, err := c.Get(k)
		if err != nil {
			return nil, err
		}
		out["get"] = string(v)
		if out["missing"], err = c.Get(k + ":missing"); err != nil {
			return nil, err
		}
		if out["incr"], err = c.Incr(k + ":n"); err != nil {
			return nil, err
		}
		if out["sadd"], err = c.Sadd(k+":set", "a", "b", "c"); err != nil {
			return nil, err
		}
		if out["srem"], err = c.Srem(k+":set", "b"); err != nil {
			return nil, err
		}
		if out["smembers"], err = c.Smembers(k + ":set"); err != nil {
			return nil, err
		}
		res, err := c.Execute("APPEND", k, "+more")
		if err != nil {
			return nil, err
		}
		out["append"] = res
		if res, err = c.Execute("SET", k+":status", "x"); err != nil {
			return nil, err
		}
		out["status"] = fmt.Sprint(res[0])
		if out["del"], err = c.Del(k+":n", k+":set", k+":status", k+":nothing"); err != nil {
			return nil, err
		}
		return out, nil
	}()
	reply(w, out, err)
}

func redisPublish(w http.ResponseWriter, r *http.Request) {
	err := func() error {
		addr, err := address("redis_address")
		if err != nil {
			return err
		}
		c, err := redis.Open(addr)
		if err != nil {
			return err
		}
		defer c.Close()
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		return c.Publish(r.PathValue("channel"), body)
	}()
	reply(w, "published", err)
}

func postgresRoundTrip(w http.ResponseWriter, r *http.Request) {
	out, err := func() (map[string]any, error) {
		addr, err := address("postgres_address")
		if err != nil {
			return nil, err
		}
		c, err := postgres.Open(addr)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		t := r.PathValue("table")
		if _, err := c.Execute("CREATE TABLE " + t + " (b BOOLEAN, i16 SMALLINT, i32 INTEGER, i64 BIGINT, f32 REAL, f64 DOUBLE PRECISION, s TEXT, bin BYTEA, n TEXT)"); err != nil {
			return nil, err
		}
		defer c.Execute("DROP TABLE " + t)
		n, err := c.Execute("INSERT INTO "+t+" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9), ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
			true, int16(-16), int32(-32), int64(-64), float32(1.5), 2.25, "héllo", []byte{0, 255}, nil)
		if err != nil {
			return nil, err
		}
		rs, err := c.Query("SELECT * FROM "+t+" WHERE i32 = $1 LIMIT 1", int32(-32))
		if err != nil {
			return nil, err
		}
		cols := []string{}
		for _, col := range rs.Columns {
			cols = append(cols, fmt.Sprintf("%s:%d", col.Name, col.Type))
		}
		_, qerr := c.Query("SELECT * FROM no_such_table_anywhere")
		return map[string]any{"inserted": n, "columns": cols, "rows": rs.Rows, "types": types(rs.Rows), "error": qerr.Error()}, nil
	}()
	reply(w, out, err)
}

func mysqlRoundTrip(w http.ResponseWriter, r *http.Request) {
	out, err := func() (map[string]any, error) {
		addr, err := address("mysql_address")
		if err != nil {
			return nil, err
		}
		c, err := mysql.Open(addr)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		t := r.PathValue("table")
		if err := c.Execute("CREATE TABLE " + t + " (i INT, s VARCHAR(64), bin BLOB, f DOUBLE, n INT NULL)"); err != nil {
			return nil, err
		}
		defer c.Execute("DROP TABLE " + t)
		if err := c.Execute("INSERT INTO "+t+" VALUES (?, ?, ?, ?, ?)", int32(-7), "héllo", []byte{1, 2}, 0.5, nil); err != nil {
			return nil, err
		}
		rs, err := c.Query("SELECT i, s, bin, f, n FROM "+t+" WHERE i = ?", int32(-7))
		if err != nil {
			return nil, err
		}
		return map[string]any{"rows": rs.Rows, "types": types(rs.Rows)}, nil
	}()
	reply(w, out, err)
}

// types lists the Go types of the first row's values, so a caller can
// check the conversions.
func types(rows [][]any) []string {
	var out []string
	if len(rows) > 0 {
		for _, v := range rows[0] {
			out = append(out, fmt.Sprintf("%T", v))
		}
	}
	return out
}

func mqttPublish(w http.ResponseWriter, r *http.Request) {
	err := func() error {
		addr, err := address("mqtt_address")
		if err != nil {
			return err
		}
		c, err := mqtt.Open(addr, "", "", 30*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		return c.Publish(r.PathValue("topic"), body, mqtt.AtLeastOnce)
	}()
	reply(w, "published", err)
}
