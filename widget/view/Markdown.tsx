import { h } from 'preact';
import { Component, createRef } from 'preact';
import { createMarkdownRenderer } from './markdown-renderer';
import type { MarkdownRenderer, MarkdownStrings } from './markdown-renderer';

/** Props of {@link Markdown}. */
export interface MarkdownProps {
  /** The whole answer so far; it normally only grows while streaming. */
  text: string;
  /** True once the answer is complete: the parser is flushed. */
  final?: boolean;
  /** Hosts whose images may load (embed.md `data-image-hosts`). */
  imageHosts: readonly string[];
  /** Page URL that relative links resolve against. */
  baseUrl?: string;
  strings: MarkdownStrings;
  /** Characters rendered before the cut notice; see `MarkdownOptions.maxChars`. */
  maxChars?: number;
}

/**
 * Assistant markdown, rendered incrementally (style rule 11). The `<div>` is rendered with no
 * children, so Preact's diff never touches what the renderer appends; each update feeds only the
 * new suffix of `text`. Options are read when a renderer starts (first render, or replaced text).
 */
export class Markdown extends Component<MarkdownProps> {
  private ref = createRef<HTMLDivElement>();
  private state_: { renderer: MarkdownRenderer; text: string; ended?: boolean } | null = null;

  override componentDidMount(): void {
    this.sync();
  }

  override componentDidUpdate(): void {
    this.sync();
  }

  private sync(): void {
    const el = this.ref.current;
    if (!el) return;
    const props = this.props;
    const { text } = props;
    let s = this.state_;
    if (!s || (s.ended && text !== s.text) || !text.startsWith(s.text)) {
      // The message was replaced (not extended), or a finished one grows again (a retried answer):
      // start over on an empty element. The props carry the renderer's options.
      el.textContent = '';
      s = this.state_ = { renderer: createMarkdownRenderer(el, props), text: '' };
    }
    // Writing nothing, or ending twice, does nothing.
    s.renderer.write(text.slice(s.text.length));
    s.text = text;
    if (props.final) {
      s.ended = true;
      s.renderer.end();
    }
  }

  override render() {
    return <div ref={this.ref} part="content" class="content" />;
  }
}
