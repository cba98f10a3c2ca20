/* PtrVec: see ptr-vec.h. */
#include "xml/ptr-vec.h"

#include <string.h>

/* Room for one more item. Starts at two (most device lists hold one or two) and doubles,
 * so that n adds cost O(n) copies. */
static void
ptr_vec_reserve_one(PtrVec *v)
{
    if (v->len < v->alloc)
        return;
    v->alloc = v->alloc ? v->alloc * 2 : 2;
    v->items = g_renew(gpointer, v->items, v->alloc);
}

void
ptr_vec_add(PtrVec *v, gpointer item)
{
    ptr_vec_reserve_one(v);
    v->items[v->len++] = item;
}

void
ptr_vec_insert(PtrVec *v, guint index, gpointer item)
{
    g_return_if_fail(index <= v->len);
    ptr_vec_reserve_one(v);
    memmove(v->items + index + 1, v->items + index, (v->len - index) * sizeof(gpointer));
    v->items[index] = item;
    v->len++;
}

gpointer
ptr_vec_steal(PtrVec *v, guint index)
{
    gpointer item;

    g_return_val_if_fail(index < v->len, NULL);
    item = v->items[index];
    v->len--;
    memmove(v->items + index, v->items + index + 1, (v->len - index) * sizeof(gpointer));
    return item;
}

void
ptr_vec_clear(PtrVec *v, GDestroyNotify free_item)
{
    for (guint i = 0; free_item && i < v->len; i++)
        free_item(v->items[i]);
    g_free(v->items);
    v->items = NULL;
    v->len = 0;
    v->alloc = 0;
}
