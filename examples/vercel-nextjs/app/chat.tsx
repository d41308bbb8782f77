'use client';
/**
 * The widget on every page: render <Chat /> once in `app/layout.tsx` (inside <body>). Bubble mode
 * renders nothing on the server and mounts after hydration; the conversation survives client-side
 * navigation (the component stays mounted in the layout) and full reloads (sessionStorage).
 */
import { CodeGPTChat } from 'codegpt-widget/react';

export default function Chat() {
  return (
    <CodeGPTChat
      agentId={process.env.NEXT_PUBLIC_CODEGPT_AGENT_ID!}
      tokenEndpoint="/api/codegpt/token"
      title="Ask the docs"
      onError={({ code }) => console.warn('codegpt-widget:', code)}
    />
  );
}
