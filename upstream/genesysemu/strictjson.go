package genesysemu

import (
	"fmt"
	"reflect"
	"strings"
)

// checkKeys reports the first object key in data (a decoded JSON value) that
// the Go type t does not name exactly. encoding/json matches keys without
// regard to case, so "memberIDs" would fill memberIds; the real service is
// case-sensitive and the emulator must be too, or a client's misspelt tag
// would go unnoticed.
func checkKeys(data any, t reflect.Type) error {
	return walkKeys(data, t, func(_ map[string]any, k string) error {
		return fmt.Errorf("unknown field %q", k)
	})
}

// dropUnknownKeys deletes from data the object keys the Go type t does not
// name exactly, so that a case-insensitive decoder cannot match them; it
// reports whether it deleted any.
func dropUnknownKeys(data any, t reflect.Type) bool {
	dropped := false
	_ = walkKeys(data, t, func(obj map[string]any, k string) error {
		delete(obj, k)
		dropped = true
		return nil
	})
	return dropped
}

// walkKeys calls unknown for every object key in data that t does not name
// exactly, and stops at the first error it returns.
func walkKeys(data any, t reflect.Type, unknown func(obj map[string]any, key string) error) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := data.(map[string]any)
		if !ok {
			return nil
		}
		fields := jsonFields(t)
		for k, v := range obj {
			ft, ok := fields[k]
			if !ok {
				if err := unknown(obj, k); err != nil {
					return err
				}
				continue
			}
			if err := walkKeys(v, ft, unknown); err != nil {
				return err
			}
		}
	case reflect.Slice:
		list, _ := data.([]any)
		for _, v := range list {
			if err := walkKeys(v, t.Elem(), unknown); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonFields maps the JSON names of struct type t, embedded structs
// included, to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		switch {
		case f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct:
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
		case name == "-" || !f.IsExported():
		case name == "":
			out[f.Name] = f.Type
		default:
			out[name] = f.Type
		}
	}
	return out
}
