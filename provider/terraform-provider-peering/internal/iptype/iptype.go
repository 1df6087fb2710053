// Package iptype is a Terraform string type for one IP address whose spellings are one value: 2001:DB8::1 in
// the configuration and 2001:db8::1 from the Peering API (which answers in canonical form) neither show as a
// difference nor force a session's replacement.
package iptype

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/peering-operator/peering-operator/provider/terraform-provider-peering/internal/session"
)

var (
	_ basetypes.StringTypable                    = AddressType{}
	_ basetypes.StringValuableWithSemanticEquals = Address{}
	_ xattr.ValidateableAttribute                = Address{}
)

// AddressType is the attribute type.
type AddressType struct {
	basetypes.StringType
}

func (t AddressType) String() string { return "iptype.AddressType" }

func (t AddressType) Equal(o attr.Type) bool {
	_, ok := o.(AddressType)
	return ok
}

func (t AddressType) ValueType(context.Context) attr.Value { return Address{} }

func (t AddressType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return Address{StringValue: in}, nil
}

func (t AddressType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	value, err := t.StringType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	s, ok := value.(basetypes.StringValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T", value)
	}
	return Address{StringValue: s}, nil
}

// Address is one IPv4 or IPv6 address, as written.
type Address struct {
	basetypes.StringValue
}

// NewAddress is a known address.
func NewAddress(text string) Address { return Address{StringValue: basetypes.NewStringValue(text)} }

// NewNull is an absent address.
func NewNull() Address { return Address{StringValue: basetypes.NewStringNull()} }

func (v Address) Type(context.Context) attr.Type { return AddressType{} }

func (v Address) Equal(o attr.Value) bool {
	other, ok := o.(Address)
	return ok && v.StringValue.Equal(other.StringValue)
}

// StringSemanticEquals: two spellings of one address are one value, so Terraform keeps the one it has.
func (v Address) StringSemanticEquals(_ context.Context, other basetypes.StringValuable) (bool, diag.Diagnostics) {
	o, ok := other.(Address)
	if !ok || v.IsNull() || v.IsUnknown() || o.IsNull() || o.IsUnknown() {
		return false, nil
	}
	a, errA := session.ParseAddress(v.ValueString())
	b, errB := session.ParseAddress(o.ValueString())
	return errA == nil && errB == nil && a == b, nil
}

// ValidateAttribute refuses what is no single address, naming the attribute.
func (v Address) ValidateAttribute(_ context.Context, req xattr.ValidateAttributeRequest, resp *xattr.ValidateAttributeResponse) {
	if v.IsNull() || v.IsUnknown() {
		return
	}
	if _, err := session.ParseAddress(v.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid IP address", fmt.Sprintf("%s: %v", req.Path, err))
	}
}
