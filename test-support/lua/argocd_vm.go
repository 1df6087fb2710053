// Package luahealth runs Argo CD resource health checks the way Argo CD runs them, so that a check proven here
// behaves the same in Argo CD's application controller.
package luahealth

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"
	luajson "layeh.com/gopher-json"
)

// HealthStatus is what a health script returns (Argo CD's health.HealthStatus).
type HealthStatus struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// The statuses Argo CD accepts; anything else becomes Unknown with invalidHealthStatus as its message.
var validStatuses = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

const invalidHealthStatus = "Lua returned an invalid health status"

// RunHealthScript evaluates a health script on a resource as Argo CD does for a check configured in argocd-cm
// (resource.customizations.health.<group>_<kind>) without useOpenLibs: a fresh gopher-lua state with only the
// package, base and table libraries and a reduced os library; the resource as the global `obj`; one second to
// finish; the returned table read through JSON.
func RunHealthScript(object map[string]any, script string) (*HealthStatus, error) {
	state := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer state.Close()
	for _, library := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.OsLibName, openReducedOs},
	} {
		if err := state.CallByParam(lua.P{Fn: state.NewFunction(library.open), NRet: 0, Protect: true}, lua.LString(library.name)); err != nil {
			return nil, fmt.Errorf("opening the %q library: %w", library.name, err)
		}
	}
	state.PreloadModule(lua.OsLibName, func(l *lua.LState) int {
		l.Push(l.SetFuncs(l.NewTable(), reducedOs))
		return 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	state.SetContext(ctx)
	state.SetGlobal("obj", toLua(state, object))
	if err := state.DoString(script); err != nil {
		return nil, err
	}
	result := state.Get(-1)
	if result.Type() != lua.LTTable {
		return nil, fmt.Errorf("expect table output from Lua script, not %s", result.Type())
	}
	encoded, err := luajson.Encode(result)
	if err != nil {
		return nil, err
	}
	health := &HealthStatus{}
	if err := json.Unmarshal(encoded, health); err != nil {
		return nil, err
	}
	if !validStatuses[health.Status] {
		return &HealthStatus{Status: "Unknown", Message: invalidHealthStatus}, nil
	}
	return health, nil
}

// Argo CD offers os.time and os.date only (nothing that exits, reads files or runs commands). Our scripts use
// neither; os.time is here so that a script relying on os.execute or io fails here as it would there.
var reducedOs = map[string]lua.LGFunction{
	"time": func(l *lua.LState) int {
		l.Push(lua.LNumber(time.Now().Unix()))
		return 1
	},
}

func openReducedOs(l *lua.LState) int {
	l.Push(l.RegisterModule(lua.OsLibName, reducedOs))
	return 1
}

// toLua converts a decoded Kubernetes object into Lua values as Argo CD does: maps become tables keyed by
// string, lists become sequences (1-based), numbers become Lua numbers.
func toLua(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case json.Number:
		return lua.LString(v)
	case []any:
		list := l.CreateTable(len(v), 0)
		for _, item := range v {
			list.Append(toLua(l, item))
		}
		return list
	case map[string]any:
		table := l.CreateTable(0, len(v))
		for key, item := range v {
			table.RawSetH(lua.LString(key), toLua(l, item))
		}
		return table
	}
	return lua.LNil
}
