/* Test helper: QEMU capabilities from canned QMP replies (tests/data/qemu/replies-ARCH). */
#pragma once

#include <json-c/json.h>

#include "drivers/qemu/qemu-capabilities.h"

/* The replies of tests/data/qemu/replies-@arch as one object (owned by the caller). */
json_object *load_replies(const char *arch);

/* Capabilities of @binary built from those replies, with KVM usable or not. */
QemuCaps *canned_caps(const char *arch, const char *binary, gboolean kvm);
