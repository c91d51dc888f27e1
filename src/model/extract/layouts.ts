// Field orders of the C API structures, for positional initializers.

export const SPEC_FIELDS = ['name', 'basicsize', 'itemsize', 'flags', 'slots'] as const;

/** PyTypeObject after ob_base. `tp_vectorcall_offset` was `tp_print` before 3.8: same position. */
export const STATIC_TYPE_FIELDS = [
  'tp_name', 'tp_basicsize', 'tp_itemsize', 'tp_dealloc', 'tp_vectorcall_offset', 'tp_getattr', 'tp_setattr',
  'tp_as_async', 'tp_repr', 'tp_as_number', 'tp_as_sequence', 'tp_as_mapping', 'tp_hash', 'tp_call', 'tp_str',
  'tp_getattro', 'tp_setattro', 'tp_as_buffer', 'tp_flags', 'tp_doc', 'tp_traverse', 'tp_clear', 'tp_richcompare',
  'tp_weaklistoffset', 'tp_iter', 'tp_iternext', 'tp_methods', 'tp_members', 'tp_getset', 'tp_base', 'tp_dict',
  'tp_descr_get', 'tp_descr_set', 'tp_dictoffset', 'tp_init', 'tp_alloc', 'tp_new', 'tp_free', 'tp_is_gc', 'tp_bases',
  'tp_mro', 'tp_cache', 'tp_subclasses', 'tp_weaklist', 'tp_del', 'tp_version_tag', 'tp_finalize', 'tp_vectorcall',
] as const;

/** PyModuleDef after m_base (PyModuleDef_HEAD_INIT). */
export const MODULE_DEF_FIELDS = [
  'm_base', 'm_name', 'm_doc', 'm_size', 'm_methods', 'm_slots', 'm_traverse', 'm_clear', 'm_free',
] as const;
