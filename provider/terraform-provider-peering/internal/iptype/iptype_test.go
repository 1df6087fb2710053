package iptype

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

func TestAddressSpellingsAreOneValue(t *testing.T) {
	ctx := context.Background()
	for _, pair := range [][2]string{
		{"2001:7f8:1::a501:5169:1", "2001:7F8:1:0:0:A501:5169:1"},
		{"80.249.208.247", "80.249.208.247"},
		{"80.249.208.247", "::ffff:80.249.208.247"},
	} {
		equal, _ := NewAddress(pair[0]).StringSemanticEquals(ctx, NewAddress(pair[1]))
		if !equal {
			t.Errorf("%s and %s are one address", pair[0], pair[1])
		}
	}
	for _, pair := range [][2]string{{"80.249.208.247", "80.249.209.100"}, {"80.249.208.247", "not an address"}} {
		equal, _ := NewAddress(pair[0]).StringSemanticEquals(ctx, NewAddress(pair[1]))
		if equal {
			t.Errorf("%s and %s are not one address", pair[0], pair[1])
		}
	}
}

func TestOnlyPlainAddressesAreValid(t *testing.T) {
	for text, valid := range map[string]bool{
		"80.249.208.247": true, "2001:7f8:1::a501:5169:1": true, "80.249.208.247/21": false, "fe80::1%eth0": false, "peer": false,
	} {
		var resp xattr.ValidateAttributeResponse
		NewAddress(text).ValidateAttribute(context.Background(), xattr.ValidateAttributeRequest{Path: path.Root("peer_ip")}, &resp)
		if resp.Diagnostics.HasError() == valid {
			t.Errorf("%q: %v", text, resp.Diagnostics)
		}
		if !valid && len(resp.Diagnostics) > 0 && resp.Diagnostics[0].Detail()[:8] != "peer_ip:" {
			t.Errorf("%q: the error must name the attribute: %s", text, resp.Diagnostics[0].Detail())
		}
	}
}
