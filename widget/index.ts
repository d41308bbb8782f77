/**
 * ESM entry. Re-exports only: importing it has no side effects, touches no DOM and no global, and
 * is safe on a server (embed.md section 1).
 */
export { mount } from './embed/mount';
export type { ChatWidget } from './embed/mount';
export { defineElement } from './embed/element';
export type { WidgetEvents } from './embed/events';
export type { WidgetOptions } from './core/options';
export type { Strings } from './core/strings';
export type { Message, MessageState, ErrorCode, TokenResponse, StreamFormat } from './core/types';
export { WidgetError } from './core/errors';
export { version } from './version';
