/* PtrVec: a growable array of pointers embedded by value in its owner.
 *
 * Unlike GPtrArray, an all-zero PtrVec is a valid empty vector and costs no
 * allocation until the first item is added: a domain definition carries some thirty
 * lists that are nearly always empty, and thousands of definitions stay in memory.
 * A PtrVec does not know how to free its items; ptr_vec_clear() is told.
 */
#pragma once

#include <glib.h>

typedef struct {
    gpointer *items;
    guint len;
    guint alloc;
} PtrVec;

/* Item @i of @v (an lvalue); @i must be below len. */
#define ptr_vec_index(v, i) ((v)->items[(i)])

/* Append @item. */
void ptr_vec_add(PtrVec *v, gpointer item);

/* Insert @item before position @index (0..len), moving later items up. */
void ptr_vec_insert(PtrVec *v, guint index, gpointer item);

/* Remove item @index keeping the order of the others, and return it unfreed. */
gpointer ptr_vec_steal(PtrVec *v, guint index);

/* Free every item with @free_item (may be NULL) and the storage: @v is empty again. */
void ptr_vec_clear(PtrVec *v, GDestroyNotify free_item);
