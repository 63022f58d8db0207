//! Host bindings generated from `wit/`, one module per served contract version. Both map
//! the `pages` resource to the same host type, so one implementation serves both.

#![allow(missing_docs, unreachable_pub)]

/// `mrhost:plugin@0.1.0` (`wit/v0.1`).
pub(crate) mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../../wit/v0.1",
        world: "plugin",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "mrhost:plugin/aws.pages": crate::host::aws::PagesState,
        },
    });
}

/// `mrhost:plugin@0.2.0` (`wit/v0.2`).
pub(crate) mod v0_2 {
    wasmtime::component::bindgen!({
        path: "../../wit/v0.2",
        world: "plugin",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "mrhost:plugin/aws.pages": crate::host::aws::PagesState,
            "mrhost:plugin/aws.batch": crate::host::aws::BatchState,
        },
    });
}
