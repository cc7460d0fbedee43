import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';

// Mounted in a task of its own: the bundle's evaluation and the page's first layout stay out of it.
setTimeout(() => mount(App, { target: document.getElementById('app')! }));
