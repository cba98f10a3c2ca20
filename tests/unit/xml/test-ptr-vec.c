/* Unit tests of PtrVec: empty without allocation, growth, ordered insert and steal. */
#include <glib.h>

#include "xml/ptr-vec.h"

static void
test_empty(void)
{
    PtrVec v = {0};

    g_assert_null(v.items);
    g_assert_cmpuint(v.len, ==, 0);
    ptr_vec_clear(&v, g_free); /* clearing an empty vector is fine */
    g_assert_null(v.items);
}

static void
test_add_insert_steal(void)
{
    PtrVec v = {0};
    int values[100];

    for (int i = 0; i < 100; i++) {
        values[i] = i;
        ptr_vec_add(&v, &values[i]);
    }
    g_assert_cmpuint(v.len, ==, 100);
    g_assert_cmpuint(v.alloc, >=, 100);
    for (guint i = 0; i < v.len; i++)
        g_assert_true(ptr_vec_index(&v, i) == &values[i]);

    ptr_vec_insert(&v, 0, &values[50]);
    ptr_vec_insert(&v, v.len, &values[7]);
    ptr_vec_insert(&v, 10, &values[99]);
    g_assert_cmpuint(v.len, ==, 103);
    g_assert_true(ptr_vec_index(&v, 0) == &values[50]);
    g_assert_true(ptr_vec_index(&v, 1) == &values[0]);
    g_assert_true(ptr_vec_index(&v, 10) == &values[99]);
    g_assert_true(ptr_vec_index(&v, 11) == &values[9]);
    g_assert_true(ptr_vec_index(&v, 102) == &values[7]);

    g_assert_true(ptr_vec_steal(&v, 10) == &values[99]);
    g_assert_true(ptr_vec_steal(&v, 0) == &values[50]);
    g_assert_true(ptr_vec_steal(&v, v.len - 1) == &values[7]);
    g_assert_cmpuint(v.len, ==, 100);
    for (guint i = 0; i < v.len; i++)
        g_assert_true(ptr_vec_index(&v, i) == &values[i]);

    ptr_vec_clear(&v, NULL);
    g_assert_null(v.items);
    g_assert_cmpuint(v.len, ==, 0);
    g_assert_cmpuint(v.alloc, ==, 0);
}

static void
test_clear_frees_items(void)
{
    PtrVec v = {0};

    ptr_vec_insert(&v, 0, g_strdup("b"));
    ptr_vec_insert(&v, 0, g_strdup("a"));
    ptr_vec_add(&v, g_strdup("c"));
    g_assert_cmpstr(ptr_vec_index(&v, 0), ==, "a");
    g_assert_cmpstr(ptr_vec_index(&v, 2), ==, "c");
    ptr_vec_clear(&v, g_free); /* leaks show up under valgrind/ASan */
    g_assert_cmpuint(v.len, ==, 0);
    ptr_vec_add(&v, g_strdup("again")); /* usable after a clear */
    g_assert_cmpuint(v.len, ==, 1);
    ptr_vec_clear(&v, g_free);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ptr-vec/empty", test_empty);
    g_test_add_func("/ptr-vec/add-insert-steal", test_add_insert_steal);
    g_test_add_func("/ptr-vec/clear-frees-items", test_clear_frees_items);
    return g_test_run();
}
