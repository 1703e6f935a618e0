// Mounts the Benchside UI. The same bundle runs in the Electron window and in a browser (web mode).
import { mount } from 'svelte'
import App from './App.svelte'
import './styles.css'

mount(App, { target: document.getElementById('app')! })
