/** The package version, injected at build time. */
export const version: string = __WIDGET_VERSION__;
