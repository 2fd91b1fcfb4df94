/*
Copyright 2026 The securitybaseline-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package argohealth runs Argo CD resource health checks (health.lua) the way Argo CD does, so
// that the check shipped in config/argocd can be tested against SecurityBaseline objects,
// from files or captured from a live API server.
package argohealth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Health statuses a health check may return (Argo CD's health.HealthStatusCode).
const (
	Healthy     = "Healthy"
	Progressing = "Progressing"
	Degraded    = "Degraded"
	Suspended   = "Suspended"
	Missing     = "Missing"
	Unknown     = "Unknown"
)

// InvalidStatusMessage is the message Argo CD reports, with status Unknown, when a script returns
// a status that is none of the above.
const InvalidStatusMessage = "Lua returned an invalid health status"

// timeout bounds one run, as Argo CD does.
const timeout = time.Second

// Evaluate runs a health script on obj the way Argo CD's ExecuteHealthLua does for a
// customization in argocd-cm (without resource.customizations.useOpenLibs): the standard
// libraries are not opened except package, base, table and a safe os (time and date only);
// the object is the global obj, converted like Argo CD's decodeValue; the script gets one
// second; its returned table is read as {status, message}. As in Argo CD, a returned nil, or a
// table whose status or message is not a string, gives an empty status, and a status that is
// not a health status gives Unknown with InvalidStatusMessage. obj may come from YAML or JSON
// (numbers as float64) or from the API server (numbers as int64).
func Evaluate(script string, obj map[string]any) (status, message string, err error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.OsLibName, openSafeOs},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return "", "", fmt.Errorf("opening lua library %q: %w", lib.name, err)
		}
	}
	l.PreloadModule(lua.OsLibName, safeOsLoader)

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	l.SetContext(ctx)

	l.SetGlobal("obj", decodeValue(l, obj))
	if err := l.DoString(script); err != nil {
		if apiErr, ok := errors.AsType[*lua.ApiError](err); ok && apiErr.Type == lua.ApiErrorRun {
			apiErr.StackTrace = ""
			return "", "", apiErr
		}
		return "", "", err
	}
	return readResult(l.Get(-1))
}

// readResult reads a script's return value as Argo CD does (through a JSON round trip).
func readResult(v lua.LValue) (status, message string, err error) {
	switch v.Type() {
	case lua.LTNil:
		return "", "", nil
	case lua.LTTable:
	default:
		return "", "", fmt.Errorf("expect table output from Lua script, not %s", v.Type())
	}
	tbl := v.(*lua.LTable)
	if isSequence(tbl) {
		// A sequence encodes as a JSON array, which Argo CD reads as an empty status.
		return "", "", nil
	}
	var ok bool
	if status, ok = stringField(tbl, "status"); !ok {
		return "", "", nil
	}
	if message, ok = stringField(tbl, "message"); !ok {
		return "", "", nil
	}
	switch status {
	case Healthy, Progressing, Degraded, Suspended, Missing, Unknown:
		return status, message, nil
	}
	return Unknown, InvalidStatusMessage, nil
}

// stringField reads a string field of a returned table; ok is false when the field holds
// something JSON would not decode into a string.
func stringField(tbl *lua.LTable, key string) (string, bool) {
	switch v := tbl.RawGetString(key).(type) {
	case *lua.LNilType:
		return "", true
	case lua.LString:
		return string(v), true
	}
	return "", false
}

// isSequence tells whether a non-empty table has only the keys 1..n (gopher-json encodes it as
// an array).
func isSequence(tbl *lua.LTable) bool {
	n := tbl.MaxN()
	if n == 0 {
		return false
	}
	keys := 0
	tbl.ForEach(func(k, _ lua.LValue) {
		if _, ok := k.(lua.LNumber); ok {
			keys++
		} else {
			keys = -1 << 30
		}
	})
	return keys == n
}

// decodeValue converts a Go value as Argo CD's decodeValue does: json.Number becomes a
// string, and types it does not know become nil.
func decodeValue(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case json.Number:
		return lua.LString(v)
	case int:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case []any:
		arr := l.CreateTable(len(v), 0)
		for _, item := range v {
			arr.Append(decodeValue(l, item))
		}
		return arr
	case map[string]any:
		tbl := l.CreateTable(0, len(v))
		for key, item := range v {
			tbl.RawSetH(lua.LString(key), decodeValue(l, item))
		}
		return tbl
	}
	return lua.LNil
}

// openSafeOs opens Argo CD's safe os library: os.time and os.date only.
func openSafeOs(l *lua.LState) int {
	l.Push(l.RegisterModule(lua.OsLibName, safeOsFuncs))
	return 1
}

func safeOsLoader(l *lua.LState) int {
	l.Push(l.SetFuncs(l.NewTable(), safeOsFuncs))
	return 1
}

var safeOsFuncs = map[string]lua.LGFunction{"time": osTime, "date": osDate}

// osTime is os.time: now, or the time of a table {year, month, day, hour, min, sec}.
func osTime(l *lua.LState) int {
	if l.GetTop() == 0 {
		l.Push(lua.LNumber(time.Now().Unix()))
		return 1
	}
	tbl := l.CheckTable(1)
	field := func(key string, def int) int {
		if n, ok := tbl.RawGetString(key).(lua.LNumber); ok {
			return int(n)
		}
		return def
	}
	t := time.Date(field("year", -1), time.Month(field("month", -1)), field("day", -1),
		field("hour", 12), field("min", 0), field("sec", 0), 0, time.Local)
	l.Push(lua.LNumber(t.Unix()))
	return 1
}

// osDate is os.date for the formats "*t" and "!*t" (a table) and otherwise RFC 3339; Argo CD
// implements strftime, which health checks of this repository do not use.
func osDate(l *lua.LState) int {
	t := time.Now()
	format := "%c"
	if l.GetTop() >= 1 {
		format = l.CheckString(1)
	}
	if len(format) > 0 && format[0] == '!' {
		t, format = t.UTC(), format[1:]
	}
	if l.GetTop() >= 2 {
		t = time.Unix(l.CheckInt64(2), 0)
	}
	if format != "*t" {
		l.Push(lua.LString(t.Format(time.RFC3339)))
		return 1
	}
	ret := l.NewTable()
	for key, value := range map[string]int{
		"year": t.Year(), "month": int(t.Month()), "day": t.Day(), "hour": t.Hour(),
		"min": t.Minute(), "sec": t.Second(), "wday": int(t.Weekday()) + 1, "yday": 0,
	} {
		ret.RawSetString(key, lua.LNumber(value))
	}
	ret.RawSetString("isdst", lua.LFalse)
	l.Push(ret)
	return 1
}
